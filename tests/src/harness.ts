import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { loadServerConfig, startServer, type RunningServer, type StartServerOptions } from "@sailfin/server";
import { Client } from "./client.js";
import { startS3Server, type S3TestServer } from "./fixtures/s3-server.js";
import { bceTimestamp, signRequest } from "@sailfin/contract";

/**
 * Test harness: a real server on a real port over a real database. Each test server gets its own
 * SAILFIN_HOME (SQLite file) or its own fresh PostgreSQL database.
 *
 * Dialects come from SAILFIN_TEST_DIALECTS (default "sqlite"; CI sets "sqlite,postgres") and the
 * PostgreSQL server from SAILFIN_TEST_PG_URL (a role allowed to CREATE DATABASE).
 */
export type TestDialect = "sqlite" | "postgres";

export function testDialects(): TestDialect[] {
  const list = (process.env.SAILFIN_TEST_DIALECTS ?? "sqlite").split(",").map((s) => s.trim()).filter(Boolean);
  for (const d of list) if (d !== "sqlite" && d !== "postgres") throw new Error(`unknown dialect ${d}`);
  return list as TestDialect[];
}

/**
 * Where test servers keep artifacts: `local` (SAILFIN_HOME) or `s3` (a SeaweedFS server started
 * once per test file, a fresh prefix per test server). From SAILFIN_TEST_ARTIFACTS (default
 * "local"; scripts/run-tests.mjs runs the lifecycle files again with "s3").
 */
export type TestArtifacts = "local" | "s3";

export function testArtifacts(): TestArtifacts[] {
  const list = (process.env.SAILFIN_TEST_ARTIFACTS ?? "local").split(",").map((s) => s.trim()).filter(Boolean);
  for (const a of list) if (a !== "local" && a !== "s3") throw new Error(`unknown artifact store ${a}`);
  return list as TestArtifacts[];
}

/** Every dialect × artifact store to run a lifecycle suite on, with a label for its describe. */
export function testAxes(): Array<{ dialect: TestDialect; artifacts: TestArtifacts; label: string }> {
  return testArtifacts().flatMap((artifacts) => testDialects().map((dialect) => ({
    dialect, artifacts, label: artifacts === "local" ? dialect : `${dialect}, ${artifacts}`,
  })));
}

/**
 * The file's S3 server, shared by its test servers: started on first use, stopped once the last
 * user lets go (after a moment, so describes run one after another reuse it).
 */
let sharedS3: { server: Promise<S3TestServer>; users: number; closing: NodeJS.Timeout | null } | null = null;

async function acquireS3(): Promise<S3TestServer> {
  sharedS3 ??= { server: startS3Server(), users: 0, closing: null };
  const shared = sharedS3;
  if (shared.closing !== null) { clearTimeout(shared.closing); shared.closing = null; }
  shared.users++;
  return shared.server;
}

function releaseS3(): void {
  const shared = sharedS3;
  if (shared === null || --shared.users > 0) return;
  // Not unref'd: the file's process stays until the server is gone (no orphaned `weed`).
  shared.closing = setTimeout(() => {
    if (sharedS3 === shared) sharedS3 = null;
    void shared.server.then((s3) => s3.close(0));
  }, 1_000);
}

/**
 * The variables that put a server's or engine's artifacts in `artifacts`: none for `local`; for
 * `s3` SAILFIN_ARTIFACTS (a fresh prefix on the file's S3 server) and the AWS variables.
 * `release` when done with it.
 */
export async function testArtifactsEnv(artifacts: TestArtifacts): Promise<{ env: Record<string, string>; release: () => void }> {
  if (artifacts === "local") return { env: {}, release: () => undefined };
  const s3 = await acquireS3();
  let released = false;
  return {
    env: { SAILFIN_ARTIFACTS: `s3://${s3.bucket}/t-${Math.random().toString(36).slice(2, 12)}`, ...s3.awsEnv },
    release: () => { if (!released) { released = true; releaseS3(); } },
  };
}

/**
 * A fresh, empty PostgreSQL database on the test server (SAILFIN_TEST_PG_URL, a role allowed to
 * CREATE DATABASE); `drop` removes it, forcing out open connections.
 */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const adminUrl = process.env.SAILFIN_TEST_PG_URL ?? "postgres://sailfin:sailfin@127.0.0.1:5432/sailfin";
  const name = `sailfin_t_${Math.random().toString(36).slice(2, 12)}`;
  const run = async (statement: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await run(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const drop = async () => {
    // FORCE cannot end a backend of another role (an autovacuum worker that just connected to
    // the fresh database): it is gone a moment later, so retry a few times.
    for (let attempt = 0; ; attempt++) {
      try {
        return await run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } catch (error) {
        if ((error as { code?: string }).code !== "42501" || attempt >= 10) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };
  return { url: url.toString(), drop };
}

export const ADMIN = { accessKey: "admintestkey0001", secretKey: "admin-test-secret-0001" } as const;

export interface TestServer {
  readonly url: string;
  readonly home: string;
  /** The PostgreSQL database of this server (undefined on SQLite), for processes that share it. */
  readonly databaseUrl: string | undefined;
  readonly artifacts: TestArtifacts;
  /** The variables that reach this server's artifact store (empty: the local folder `home`), for processes that share it. */
  readonly artifactsEnv: Readonly<Record<string, string>>;
  readonly server: RunningServer;
  readonly admin: Client;
  /** A client signed with another pair. */
  as(credentials: { accessKey: string; secretKey: string }): Client;
  /** Creates a key with these policies and returns a client for it. */
  clientWith(...policies: string[]): Promise<Client>;
  close(): Promise<void>;
}

export async function startTestServer(
  dialect: TestDialect = "sqlite", env: Record<string, string> = {}, artifacts: TestArtifacts = "local", options: StartServerOptions = {},
): Promise<TestServer> {
  const home = await mkdtemp(join(tmpdir(), "sailfin-test-"));
  const { env: artifactsEnv, release } = await testArtifactsEnv(artifacts);
  const database = dialect === "postgres" ? await createTestDatabase() : undefined;
  const databaseUrl = database?.url;
  const config = loadServerConfig({
    flags: { port: "0", host: "127.0.0.1", home },
    env: {
      SAILFIN_ACCESS_KEY: ADMIN.accessKey,
      SAILFIN_SECRET_KEY: ADMIN.secretKey,
      SAILFIN_LOG_LEVEL: process.env.SAILFIN_LOG_LEVEL ?? "silent",
      ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }),
      ...artifactsEnv,
      ...env,
    },
  });
  let server: RunningServer;
  try {
    server = await startServer(config, () => {}, options);
  } catch (error) {
    release();
    throw error;
  }
  const as = (c: { accessKey: string; secretKey: string }) => new Client({ baseUrl: server.url, ...c });
  const admin = as(ADMIN);
  return {
    url: server.url,
    home,
    databaseUrl,
    artifacts,
    artifactsEnv,
    server,
    admin,
    as,
    async clientWith(...policies: string[]) {
      const created = await admin.v2<{ accessKey: string; secretKey: string }>("iam", "CreateAccessKey", { policies });
      return as(created);
    },
    async close() {
      await server.close();
      await database?.drop();
      await rm(home, { recursive: true, force: true });
      release();
    },
  };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
  readonly text: string;
}

/**
 * A signed request with full control (for envelope and error tests): returns status, headers and
 * parsed body without throwing.
 */
export async function rawCall(
  baseUrl: string,
  options: {
    method?: string;
    path: string;
    query?: Record<string, string>;
    body?: string;
    credentials?: { accessKey: string; secretKey: string } | null;
    headers?: Record<string, string>;
    timestamp?: string;
    expirationSeconds?: number;
  },
): Promise<RawResponse> {
  const method = options.method ?? "POST";
  const url = new URL(baseUrl + options.path);
  for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
  const timestamp = options.timestamp ?? bceTimestamp();
  const headers: Record<string, string> = { host: url.host, "content-type": "application/json", "x-bce-date": timestamp, ...(options.headers ?? {}) };
  const credentials = options.credentials === undefined ? ADMIN : options.credentials;
  if (credentials !== null) {
    headers.authorization = signRequest({
      ...credentials, method, path: url.pathname, query: options.query ?? {},
      headers: { host: headers.host!, "content-type": headers["content-type"]!, "x-bce-date": timestamp },
      timestamp, expirationSeconds: options.expirationSeconds ?? 1800,
    });
  }
  return readRawResponse(await fetch(url, { method, headers, ...(options.body === undefined ? {} : { body: options.body }) }));
}

/** A response's status, headers, text and JSON body (undefined when the text is not JSON). */
export async function readRawResponse(response: Response): Promise<RawResponse> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, body, text };
}

/** Calls a V2 action and returns the raw response. */
export function v2Raw(server: { url: string }, resource: string, action: string, body: unknown, credentials?: { accessKey: string; secretKey: string } | null) {
  return rawCall(server.url, { path: `/v2/${resource}`, query: { Action: action }, body: JSON.stringify(body), credentials });
}

/** Calls a V1 route and returns the raw response. */
/** A V2 call that must succeed: asserts HTTP 200 (showing the body otherwise) and returns `result`. */
export async function v2Ok(server: { url: string }, resource: string, action: string, body: unknown): Promise<any> {
  const r = await v2Raw(server, resource, action, body);
  assert.equal(r.status, 200, `${action}: ${r.text}`);
  return r.body.result;
}

export function v1Raw(server: { url: string }, path: string, body: unknown, credentials?: { accessKey: string; secretKey: string } | null) {
  return rawCall(server.url, { path, body: JSON.stringify(body), credentials });
}

/** Polls `read` until `done` holds; fails after `timeoutMs` showing the last value. */
export async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not get there: ${JSON.stringify(value)}`);
    await sleep(50);
  }
}
