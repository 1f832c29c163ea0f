import assert from "node:assert/strict";
import { consoleAction } from "@baiducloud/qianfan";
import { ROUTES } from "@sailfin/server";
import { pollUntil } from "./harness.js";

/**
 * The official Node SDK, `@baiducloud/qianfan`'s `consoleAction`, as a Qianfan user calls it,
 * with what it hands back checked and parsed:
 *
 * - it reads QIANFAN_ACCESS_KEY / QIANFAN_SECRET_KEY / QIANFAN_CONSOLE_API_BASE_URL from
 *   process.env when called, so each call sets them first (and signs synchronously, within the
 *   call, before its first await);
 * - a success resolves to the JSON body with the response headers merged in as `headers`;
 * - any non-2xx rejects with `Request timed out.` + `HTTP error, status = N` + the response
 *   headers and body as text (the SDK's catch-all prefixes every failure that way);
 * - a V1 business error (HTTP 200 with `error_code`) rejects with `JSON.stringify` of the
 *   merged body as the message, unless the code is one the SDK retries (500000 among them).
 *
 * Every route answered with success is recorded under its `routeName`, for the coverage check
 * (sdk-node-coverage.ts).
 */

interface Credentials {
  readonly accessKey: string;
  readonly secretKey: string;
}

/** What a rejected consoleAction carried, parsed back out of its message. */
interface SdkRejection {
  readonly message: string;
  /** The HTTP status; 200 for a V1 business error. */
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: any;
}

/** A V2 success as consoleAction resolves it. */
interface V2Answer {
  readonly headers: Record<string, string>;
  readonly requestId: string;
  readonly result?: any;
}

/** A V1 success as consoleAction resolves it. */
interface V1Answer {
  readonly headers: Record<string, string>;
  readonly log_id: string;
  readonly result: any;
  readonly status?: number;
  readonly success?: boolean;
}

const V2_ROUTE = (resource: string, action: string) => `POST /v2/${resource}?Action=${action}`;
const V1_ROUTE = (path: string) => `POST ${path}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HTTP_FAILURE = /^Request timed out\.\s*HTTP error, status = (\d+)\s*Response Header (\{.*\})\s*\nResponse Body (.*)$/s;

/** Calls consoleAction with these credentials and base URL (set into process.env first). */
export function callConsoleAction(baseUrl: string, credentials: Credentials, route: string, action: string | undefined, data?: unknown): Promise<any> {
  process.env.QIANFAN_ACCESS_KEY = credentials.accessKey;
  process.env.QIANFAN_SECRET_KEY = credentials.secretKey;
  process.env.QIANFAN_CONSOLE_API_BASE_URL = baseUrl;
  return consoleAction({
    base_api_route: route,
    ...(data === undefined ? {} : { data: data as Record<string, unknown> }),
    ...(action === undefined ? {} : { action }),
  });
}

/** Parses a consoleAction rejection: an HTTP failure, or a V1 business error's JSON. */
function parseRejection(error: unknown): SdkRejection {
  assert.ok(error instanceof Error, `consoleAction rejects with an Error, got ${String(error)}`);
  const message = error.message;
  const http = HTTP_FAILURE.exec(message);
  if (http !== null) {
    return { message, status: Number(http[1]), headers: JSON.parse(http[2]!) as Record<string, string>, body: JSON.parse(http[3]!) };
  }
  // A V1 business error: the whole resolved value (headers merged into the body), stringified.
  let parsed: any;
  try {
    parsed = JSON.parse(message);
  } catch {
    assert.fail(`consoleAction rejected with neither an HTTP failure nor a JSON body: ${message}`);
  }
  const { headers, ...body } = parsed;
  return { message, status: 200, headers, body };
}

/** The rejection of `promise`, parsed; fails if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<SdkRejection> {
  let resolved: unknown;
  try {
    resolved = await promise;
  } catch (error) {
    return parseRejection(error);
  }
  assert.fail(`consoleAction was expected to reject, resolved with ${JSON.stringify(resolved)}`);
}

function expectMergedHeaders(headers: unknown): asserts headers is Record<string, string> {
  assert.ok(headers !== null && typeof headers === "object", "consoleAction merges the response headers in as `headers`");
  assert.match((headers as Record<string, string>)["content-type"] ?? "", /^application\/json/);
}

/** True for the V1 routes whose envelope carries `status`/`success` (from the server's route table). */
function isDatasetFamily(path: string): boolean {
  return ROUTES.some((r) => r.dialect === "v1" && r.path === path && r.datasetFamily === true);
}

export class NodeSdk {
  private readonly reached = new Set<string>();

  constructor(private readonly baseUrl: string, private readonly credentials: Credentials) {}

  /** consoleAction, unchecked (for quirk tests). */
  raw(route: string, action: string | undefined, data?: unknown, credentials: Credentials = this.credentials): Promise<any> {
    return callConsoleAction(this.baseUrl, credentials, route, action, data);
  }

  /**
   * A V2 action that must succeed, its envelope checked: `requestId` (a UUID, also the merged
   * `x-bce-request-id` header) and `result`, nothing else besides `headers`.
   */
  async v2(resource: string, action: string, data?: unknown): Promise<V2Answer> {
    const body = await this.raw(`/v2/${resource}`, action, data);
    expectMergedHeaders(body.headers);
    assert.match(body.requestId, UUID, `${action}: requestId`);
    assert.equal(body.headers["x-bce-request-id"], body.requestId, `${action}: the x-bce-request-id header is the body's requestId`);
    assert.deepEqual(Object.keys(body).filter((k) => !["headers", "requestId", "result"].includes(k)), [], `${action}: only requestId and result`);
    this.reached.add(V2_ROUTE(resource, action));
    return body as V2Answer;
  }

  /**
   * A V1 route that must succeed: digit-string `log_id`, `result`, no `error_code`; the dataset
   * family adds `status: 200, success: true`.
   */
  async v1(path: string, data?: unknown): Promise<V1Answer> {
    const body = await this.raw(path, undefined, data);
    expectMergedHeaders(body.headers);
    assert.equal(body.error_code, undefined, `${path}: ${JSON.stringify(body)}`);
    assert.match(body.log_id, /^\d+$/, `${path}: log_id is a string of digits`);
    assert.ok("result" in body, `${path}: V1 success carries result`);
    const family = isDatasetFamily(path);
    const keys = ["headers", "log_id", "result", ...(family ? ["status", "success"] : [])];
    assert.deepEqual(Object.keys(body).sort(), keys.sort(), `${path}: envelope keys`);
    if (family) {
      assert.equal(body.status, 200);
      assert.equal(body.success, true);
    }
    this.reached.add(V1_ROUTE(path));
    return body as V1Answer;
  }

  /** A V2 action that must fail: HTTP >= 400, `{requestId, code, message}`, the code also in `x-bce-error-code`. */
  async v2Error(resource: string, action: string, data?: unknown): Promise<SdkRejection> {
    const rejection = await rejectionOf(this.raw(`/v2/${resource}`, action, data));
    assert.ok(rejection.status >= 400, `${action}: a V2 error is HTTP >= 400, got ${rejection.status}`);
    assert.deepEqual(Object.keys(rejection.body).sort(), ["code", "message", "requestId"]);
    assert.match(rejection.body.requestId, UUID);
    assert.equal(rejection.headers["x-bce-request-id"], rejection.body.requestId);
    assert.equal(rejection.headers["x-bce-error-code"], rejection.body.code);
    return rejection;
  }

  /**
   * A V1 route that must fail with a business error: HTTP 200 `{log_id, error_code, error_msg}`
   * (the dataset family adds `status: 400, success: false, code, message`).
   */
  async v1Error(path: string, data?: unknown): Promise<SdkRejection> {
    const rejection = await rejectionOf(this.raw(path, undefined, data));
    assert.equal(rejection.status, 200, `${path}: V1 business errors travel as HTTP 200`);
    expectMergedHeaders(rejection.headers);
    const { body } = rejection;
    assert.match(body.log_id, /^\d+$/);
    assert.ok(Number.isInteger(body.error_code), `${path}: error_code is a number`);
    assert.equal(typeof body.error_msg, "string");
    if (isDatasetFamily(path)) {
      assert.equal(body.status, 400);
      assert.equal(body.success, false);
      assert.equal(body.code, body.error_code);
      assert.equal(body.message, body.error_msg);
    }
    return rejection;
  }

  /** Every route that answered one of this driver's checked calls with success. */
  reachedRoutes(): ReadonlySet<string> {
    return this.reached;
  }
}

/** Polls an SDK call until `done` holds (30 s by default). */
export function pollSdk<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  return pollUntil(read, done, what, timeoutMs);
}
