import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import * as contract from "@sailfin/contract";
import { bceTimestamp, signRequest, uriEncode } from "@sailfin/contract";
import { ROUTES, routeName, type RouteDef } from "@sailfin/server";
import { ADMIN, startTestServer, testDialects, type TestServer } from "./harness.js";

/**
 * A bounded, deterministic fuzz of every route of both dialects and every extension route: signed
 * requests whose bodies are mutated (wrong types, overflowing numbers, NUL bytes, lone
 * surrogates, deep nesting, long strings, unknown keys, arrays for objects, broken JSON …), plus
 * unsigned and garbage-auth requests and odd URLs. Every answer must be below 500 and in its
 * route family's envelope. The seed is fixed (SAILFIN_FUZZ_SEED overrides it) so a failure
 * names a request that can be replayed.
 */

const SEED = Number(process.env.SAILFIN_FUZZ_SEED ?? 20260611);
/** Requests per JSON route and dialect. */
const PER_ROUTE = Number(process.env.SAILFIN_FUZZ_PER_ROUTE ?? 40);
/** X-Bce-Error-Message's bound: render.ts keeps 500 characters, each at most 9 once percent-encoded. */
const MAX_ERROR_HEADER = 500 * 9;

/** mulberry32: small, fast, and the same sequence on every machine. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

type ZodDef = Record<string, unknown> & { type?: string };
const defOf = (schema: unknown): ZodDef | undefined =>
  schema !== null && typeof schema === "object" ? (schema as { _zod?: { def?: ZodDef } })._zod?.def : undefined;

/** Every field the contract's request schemas declare, with each schema that declares it (from their zod definitions). */
function contractFields(): Map<string, unknown[]> {
  const fields = new Map<string, unknown[]>();
  const seen = new Set<unknown>();
  const walk = (schema: unknown, depth: number) => {
    const def = defOf(schema);
    if (def === undefined || seen.has(schema) || depth > 12) return;
    seen.add(schema);
    const shape = def.shape as Record<string, unknown> | undefined;
    if (shape !== undefined && typeof shape === "object") {
      for (const [key, inner] of Object.entries(shape)) {
        fields.set(key, [...(fields.get(key) ?? []), inner]);
        walk(inner, depth + 1);
      }
    }
    for (const key of ["innerType", "element", "in", "out", "valueType", "keyType", "left", "right"]) walk(def[key], depth + 1);
    if (Array.isArray(def.options)) for (const option of def.options) walk(option, depth + 1);
  };
  for (const value of Object.values(contract)) walk(value, 0);
  return fields;
}

/**
 * A value that fits the schema, except that each part is swapped for a fuzz value with
 * probability `mutate`: deep fields are reached with plausible parents and one odd leaf.
 */
type Theme = "types" | "nul" | "surrogate" | "overflow" | "long";
function fromSchema(rng: Rng, schema: unknown, theme: Theme, depth: number, fields: readonly string[]): unknown {
  const def = defOf(schema);
  if (def === undefined || depth > 6 || (theme === "types" && rng.chance(0.1))) return fuzzValue(rng, fields, 2);
  const inner = (next: unknown) => fromSchema(rng, next, theme, depth + 1, fields);
  const odd = rng.chance(0.4);
  switch (def.type) {
    case "string": {
      const plain = rng.chance(0.5) ? anyId(rng) : `name${rng.int(100)}`;
      if (!odd) return plain;
      if (theme === "nul") return rng.chance(0.5) ? `${plain}\u0000` : "\u0000";
      if (theme === "surrogate") return rng.chance(0.5) ? `${plain}\ud800` : "\udfff";
      if (theme === "long") return plain.repeat(rng.pick([20, 200, 2000]));
      return plain;
    }
    case "number": case "int":
      if (theme === "overflow" && odd) return rng.pick([2147483648, -2147483649, 4294967296, 9007199254740991, 1e21, -1, 0, 0.5]);
      return known.nums.length > 0 && rng.chance(0.3) ? rng.pick(known.nums) : 1 + rng.int(10);
    case "boolean": return rng.chance(0.5);
    case "enum": return rng.pick(Object.values(def.entries as Record<string, unknown>));
    case "literal": return rng.pick(def.values as unknown[]);
    case "array": return Array.from({ length: 1 + rng.int(2) }, () => inner(def.element));
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(def.shape as Record<string, unknown>)) if (rng.chance(0.8)) out[key] = inner(value);
      return out;
    }
    case "optional": case "nullable": case "default": case "readonly": case "catch": case "nonoptional": case "prefault": return inner(def.innerType);
    case "union": return inner(rng.pick(def.options as unknown[]));
    case "record": return { [`k${rng.int(10)}`]: inner(def.valueType) };
    case "pipe": return inner(def.in);
    default: return fuzzValue(rng, fields, 2);
  }
}

/** Fields of the server's own V1 schemas (not exported by the contract). */
const SERVER_FIELDS = [
  "projectType", "templateType", "dataType", "importFrom", "pageNo", "pageSize", "modelType", "versionId", "step",
  "appId", "start", "end", "datasetId", "taskId", "jobId", "modelId", "modelVersionId", "id", "name", "storageType",
];

const NUMBERS = [
  0, 1, -1, 2, 7, 100, 2147483647, 2147483648, -2147483648, -2147483649, 4294967296, 9007199254740991,
  9007199254740993, -9007199254740993, 1e21, 1e308, -1e308, 0.5, -0.5, 1e-9, 3.14,
];
const ID_PREFIXES = ["am-", "amv-", "ds-", "job-", "task-", "amva-", "ame-", "amemt-", "ft-", "wh-", "whd-"];
/**
 * Ids of objects the server really holds (made before the fuzz), so some requests get past the
 * lookup into the code behind it. They differ per run; the sequence of choices does not.
 */
const known = { ids: [] as string[], nums: [] as number[] };
const anyId = (rng: Rng) =>
  known.ids.length > 0 && rng.chance(0.5) ? rng.pick(known.ids) : `${rng.pick(ID_PREFIXES)}${rng.int(1_000_000).toString(36)}`;

function fuzzString(rng: Rng): string {
  switch (rng.int(16)) {
    case 0: return "";
    case 1: return "\u0000";
    case 2: return `a${"\u0000"}b`;
    case 3: return "\ud800";
    case 4: return `x\udc00y`;
    case 5: return "💥é中文";
    case 6: return "a".repeat(rng.pick([65, 101, 257, 1025, 20_000]));
    case 7: return anyId(rng);
    case 8: return String(rng.pick(NUMBERS));
    case 9: return rng.pick(["bos:/b/x", "bos:/../etc", "bos://bucket/a.jsonl", "s3://b/k", "http://127.0.0.1:1/", "../../etc/passwd"]);
    case 10: return rng.pick(["SFT", "LoRA", "DPO", "Messages", "Import", "Running", "Done", "ERNIE", "true", "null"]);
    case 11: return rng.pick(["%00", "%zz", "\\u0000", "'; DROP TABLE runs; --", "<script>", "\r\n", "\t"]);
    case 12: return `2026-01-01T00:00:00Z${rng.chance(0.5) ? "x" : ""}`;
    case 13: return String.fromCharCode(rng.int(0x20), 0xdbff, 0x41);
    default: return `k${rng.int(1000)}`;
  }
}

function fuzzValue(rng: Rng, fields: readonly string[], depth: number): unknown {
  switch (rng.int(depth > 2 ? 4 : 8)) {
    case 0: return fuzzString(rng);
    case 1: return rng.pick(NUMBERS);
    case 2: return rng.pick([true, false, null]);
    case 3: return fuzzString(rng);
    case 4: return Array.from({ length: rng.int(4) }, () => fuzzValue(rng, fields, depth + 1));
    case 5: return fuzzObject(rng, fields, depth + 1);
    case 6: return rng.pick([[], {}, [null], [[]], { "": 1 }]);
    default: return rng.pick(NUMBERS);
  }
}

function fuzzObject(rng: Rng, fields: readonly string[], depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const count = 1 + rng.int(6);
  for (let i = 0; i < count; i++) {
    const key = rng.chance(0.9) ? rng.pick(fields) : rng.pick(["\u0000", "\ud800", "__proto__", "constructor", "k".repeat(300), "unknownKey"]);
    out[key] = fuzzValue(rng, fields, depth);
  }
  return out;
}

/** A request body as bytes: mostly a JSON object of known fields, sometimes something else entirely. */
function fuzzBody(rng: Rng, fields: readonly string[], schemas?: Map<string, unknown[]>): { body: Buffer; contentType: string } {
  const json = (value: unknown) => ({ body: Buffer.from(JSON.stringify(value)), contentType: "application/json" });
  switch (rng.int(20)) {
    case 0: return json(rng.pick([[], "text", 12, null, true, [{}]]));
    case 1: return { body: Buffer.from(rng.pick(["{", "{\"a\":", "nul", "{\"a\":1}}", "\u0000", "[1,]"])), contentType: "application/json" };
    case 2: return { body: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), contentType: "application/json" };
    case 3: return { body: Buffer.from(`${rng.pick(fields)}=%00&x=${"\u0000"}`), contentType: "application/x-www-form-urlencoded" };
    case 4: {
      const depth = rng.pick([64, 512, 4096]);
      return { body: Buffer.from(`{"${rng.pick(fields)}":${"[".repeat(depth)}${"]".repeat(depth)}}`), contentType: "application/json" };
    }
    case 5: return { body: Buffer.from(`{"${rng.pick(fields)}":"\\ud800"}`), contentType: "application/json" };
    case 6: return { body: Buffer.from(`{"${rng.pick(fields)}":"a\\u0000"}`), contentType: rng.pick(["text/plain", "application/json; charset=utf-8", "application/xml"]) };
    case 7: return { body: Buffer.alloc(0), contentType: "application/json" };
    case 8: case 9: case 10: case 11: case 12: case 13: {
      if (schemas === undefined) return json(fuzzObject(rng, fields, 0));
      // Every known field at once, plausible but for a few: each route reads its own.
      const out: Record<string, unknown> = {};
      const theme = rng.pick<Theme>(["types", "nul", "surrogate", "overflow", "long"]);
      for (const [key, declared] of schemas) if (rng.chance(0.7)) out[key] = fromSchema(rng, rng.pick(declared), theme, 0, fields);
      return json(out);
    }
    default: return json(fuzzObject(rng, fields, 0));
  }
}

interface Exchange {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly sent: string;
}

/** One request over node:http (the path goes out exactly as written, unlike fetch's URL parser). */
function send(
  base: URL,
  options: { method: string; path: string; query?: Record<string, string>; rawQuery?: string; body?: Buffer; contentType?: string; auth: "admin" | "none" | "garbage" | "unknown-key"; headers?: Record<string, string> },
): Promise<Exchange> {
  const query = options.rawQuery ?? Object.entries(options.query ?? {}).map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join("&");
  const target = `${options.path}${query === "" ? "" : `?${query}`}`;
  const timestamp = bceTimestamp();
  const headers: Record<string, string> = { host: base.host, "x-bce-date": timestamp, ...(options.headers ?? {}) };
  if (options.contentType !== undefined) headers["content-type"] = options.contentType;
  if (options.auth === "admin" || options.auth === "unknown-key") {
    const credentials = options.auth === "admin" ? ADMIN : { accessKey: "nosuchkey0000000", secretKey: "x" };
    headers.authorization = signRequest({
      ...credentials, method: options.method, path: options.path, query: options.query ?? {},
      headers: { host: base.host, "x-bce-date": timestamp }, timestamp, expirationSeconds: 1800,
    });
  } else if (options.auth === "garbage") {
    headers.authorization = "bce-auth-v1/\u00ff/garbage";
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: base.hostname, port: base.port, method: options.method, path: target, maxHeaderSize: 8 * 1024 * 1024, headers: { ...headers, "content-length": String(options.body?.length ?? 0) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({
        method: options.method, path: target, status: res.statusCode ?? 0, headers: res.headers,
        text: Buffer.concat(chunks).toString("utf8"), sent: options.body?.toString("utf8") ?? "",
      }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

type Family = "v1" | "v1-dataset" | "v2" | "session" | "oauth" | "console" | "health" | "objects" | "events" | "openai" | "openaiFiles" | "openaiJobs" | "openaiModels" | "v1chat" | "bearer";

/** What is wrong with an answer (undefined: nothing). */
function checkEnvelope(family: Family, x: Exchange): string | undefined {
  // A chat call to the service that serves nothing now ("down") is told to retry: 503 by design.
  const notServing = family === "openai" && x.status === 503 && x.text.includes('"code":"service_unavailable"');
  if (x.status >= 500 && !notServing) return `HTTP ${x.status}`;
  const header = x.headers["x-bce-error-message"];
  if (typeof header === "string" && header.length > MAX_ERROR_HEADER) return `x-bce-error-message of ${header.length} chars`;
  const type = String(x.headers["content-type"] ?? "");
  if (family === "console") return undefined;
  if (family === "events" && x.status === 200 && type.startsWith("text/event-stream")) return undefined;
  if ((family === "objects" || family === "openaiFiles") && x.status === 200 && type.startsWith("application/octet-stream")) return undefined;
  if (x.status === 204) return undefined;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(x.text) as Record<string, unknown>;
  } catch {
    return "the answer is not JSON";
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) return "the answer is not a JSON object";
  const v2Error = () => typeof body.requestId === "string" && typeof body.code === "string" && typeof body.message === "string";
  switch (family) {
    case "openai": {
      const error = body.error as Record<string, unknown> | undefined;
      if (x.status < 400) return "an OpenAI chat answer where no service serves";
      return typeof body.id === "string" && typeof error?.code === "string" && typeof error.message === "string" && typeof error.type === "string" && "param" in error
        ? undefined : "not {error: {code, message, type, param}, id}";
    }
    case "openaiFiles": {
      // OpenAI's files: a File, a list, a deletion, or `{error: {message, type, param, code}}` (param and code may be null).
      if (x.status === 200) return body.object === "file" || body.object === "list" ? undefined : "not a File, a list or a deletion";
      const error = body.error as Record<string, unknown> | undefined;
      return typeof error?.message === "string" && typeof error.type === "string" && "param" in error && "code" in error
        ? undefined : "not {error: {message, type, param, code}}";
    }
    case "openaiJobs": {
      // OpenAI's fine-tuning jobs: a job, a list, or `{error: {message, type, param, code}}`.
      if (x.status === 200) return body.object === "fine_tuning.job" || body.object === "list" ? undefined : "not a job or a list";
      const error = body.error as Record<string, unknown> | undefined;
      return typeof error?.message === "string" && typeof error.type === "string" && "param" in error && "code" in error
        ? undefined : "not {error: {message, type, param, code}}";
    }
    case "openaiModels": {
      // OpenAI's models: a list, or `{error: {message, type, param, code}}`.
      if (x.status === 200) return body.object === "list" && Array.isArray(body.data) && body.has_more === false ? undefined : "not a list of models";
      const error = body.error as Record<string, unknown> | undefined;
      return typeof error?.message === "string" && typeof error.type === "string" && "param" in error && "code" in error
        ? undefined : "not {error: {message, type, param, code}}";
    }
    case "v1chat":
      return x.status === 200 && typeof body.error_code === "number" && typeof body.error_msg === "string" ? undefined : "not HTTP 200 {error_code, error_msg}";
    case "bearer":
      if (x.status === 200) return typeof body.token === "string" && typeof body.expireTime === "string" ? undefined : "not a bearer token";
      return v2Error() ? undefined : "not {requestId, code, message}";
    case "health":
      return x.status === 200 && body.status === "ok" ? undefined : v2Error() ? undefined : "not {status} nor a V2 error";
    case "oauth":
      if (typeof body.access_token === "string") return undefined;
      return typeof body.error === "string" && typeof body.error_description === "string" ? undefined : "not {error, error_description}";
    case "session":
      if (x.status === 200) return typeof body.accessKey === "string" && typeof body.csrfToken === "string" ? undefined : "not a ConsoleSession";
      return v2Error() ? undefined : "not {requestId, code, message}";
    case "v2": case "objects": case "events":
      if (x.status < 400) return typeof body.requestId === "string" && (x.status === 200) ? undefined : "not {requestId, result}";
      return v2Error() ? undefined : "not {requestId, code, message}";
    case "v1": case "v1-dataset": {
      if (typeof body.log_id !== "string" && x.status < 400) return "no log_id";
      if (x.status >= 400) {
        // Gateway errors carry both key sets.
        return typeof body.error_code === "number" && typeof body.error_msg === "string" && v2Error() ? undefined : "not a gateway error with both key sets";
      }
      if (x.status !== 200) return `V1 answered HTTP ${x.status}`;
      if ("error_code" in body) {
        if (typeof body.error_code !== "number" || typeof body.error_msg !== "string") return "error_code/error_msg of the wrong type";
        if (family === "v1-dataset" && (typeof body.status !== "number" || body.success !== false)) return "dataset-family error without status/success";
        // V1's rendering of a 5xx: HTTP 200 with 500000 (the dataset family also says status 500).
        if (body.error_code === 500000) return `V1 internal error 500000${family === "v1-dataset" ? ` with status ${String(body.status)}` : ""}`;
        return undefined;
      }
      return "result" in body ? undefined : "neither result nor error_code";
    }
  }
}

function familyOf(def: RouteDef): Family {
  if (def.dialect === "v2") return "v2";
  return def.datasetFamily === true ? "v1-dataset" : "v1";
}

for (const dialect of testDialects()) {
  describe(`fuzz every route (${dialect})`, () => {
    let server: TestServer;
    let base: URL;
    const schemas = contractFields();
    const fields = [...new Set([...schemas.keys(), ...SERVER_FIELDS])];
    const failures = new Map<string, { count: number; example: string }>();
    let requests = 0;

    before(async () => {
      // A service that exists but serves nothing now, so chat calls get as far as the service.
      server = await startTestServer(dialect, {}, "local", {
        findServingTarget: async (_res, model) => (model === "down" ? { modelVersion: { num: 1, id: "amv-down", artifactPath: "models/amv-down/" }, endpoint: null } : null),
      });
      base = new URL(server.url);
      // A few objects to aim at: a dataset (and its version), a V1 dataset, a model set, a key.
      const made = [
        await server.admin.v2("dataset", "CreateDataset", { datasetName: "fuzz", dataFormat: "PromptResponse", storageType: "sysStorage" }),
        await server.admin.v2("model", "CreateCustomModelSet", { modelSetName: "fuzz", modelType: "Text2Text" }),
        await server.admin.v2("iam", "CreateAccessKey", { policies: ["QianfanFullControlAccessPolicy"] }),
        await server.admin.v1("/wenxinworkshop/dataset/create", { name: "fuzz1", projectType: 20, templateType: 2000, storageType: "sysBos" }).catch(() => null),
      ];
      const collect = (value: unknown, key: string) => {
        if (typeof value === "string" && (ID_PREFIXES.some((p) => value.startsWith(p)) || key === "accessKey")) known.ids.push(value);
        else if (typeof value === "number" && /Id$/.test(key)) known.nums.push(value);
        else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) collect(v, k);
      };
      collect(made, "");
      known.ids = [...new Set(known.ids)];
      known.nums = [...new Set(known.nums)];
      assert.ok(known.ids.length >= 3, `made objects: ${JSON.stringify(made)}`);
    });
    after(async () => { await server.close(); });

    const expect = (family: Family, x: Exchange, label: string) => {
      requests++;
      const problem = checkEnvelope(family, x);
      if (problem === undefined) return;
      // One example per route and kind of problem, with how many more there were.
      const key = `${label}: ${problem}`;
      const seen = failures.get(key);
      if (seen !== undefined) seen.count++;
      else failures.set(key, { count: 1, example: `${x.method} ${x.path.slice(0, 200)}\n    sent ${JSON.stringify(x.sent.slice(0, 200))}\n    got ${x.status} ${x.text.slice(0, 200)}` });
    };
    const report = () => {
      const lines = [...failures].map(([key, { count, example }]) => `${key} (×${count})\n    ${example}`);
      failures.clear();
      return lines;
    };

    /** Runs the jobs a few at a time (the server is one process; more would only queue). */
    const pool = async (jobs: Array<() => Promise<void>>) => {
      let next = 0;
      await Promise.all(Array.from({ length: 4 }, async () => {
        while (next < jobs.length) await jobs[next++]!();
      }));
    };

    test("every JSON route of both dialects answers mutated bodies in its envelope, never 5xx", async () => {
      const rng = prng(SEED);
      const jobs: Array<() => Promise<void>> = [];
      for (const def of ROUTES) {
        const family = familyOf(def);
        const path = def.dialect === "v2" ? `/v2/${def.resource}` : def.path;
        const query = def.dialect === "v2" ? { Action: def.action } : undefined;
        for (let i = 0; i < PER_ROUTE; i++) {
          const { body, contentType } = fuzzBody(rng, fields, schemas);
          const auth = rng.chance(0.9) ? "admin" as const : rng.pick(["none", "garbage", "unknown-key"] as const);
          jobs.push(async () => expect(family, await send(base, { method: "POST", path, ...(query === undefined ? {} : { query }), body, contentType, auth }), routeName(def)));
        }
      }
      await pool(jobs);
      const wrong = report();
      assert.deepEqual(wrong, [], `${wrong.length} kinds of wrong answers in ${requests} requests (seed ${SEED})`);
    });

    test("extension routes, odd URLs and odd query strings answer in their envelopes, never 5xx", async () => {
      const rng = prng(SEED + 1);
      const odd = ["%00", "%zz", "%ED%A0%80", "%F0%9F%92%A5", "a".repeat(120), "a".repeat(5000), "..", "%2e%2e", "x%2Fy", "%C0%AF", "%"];
      const jobs: Array<() => Promise<void>> = [];
      const add = (family: Family, options: Parameters<typeof send>[1]) =>
        jobs.push(async () => expect(family, await send(base, options), `${options.method} ${options.path.slice(0, 60)}`));
      for (const segment of odd) {
        add("v2", { method: "POST", path: `/v2/${segment}`, query: { Action: "DescribePolicies" }, auth: "admin", body: Buffer.from("{}"), contentType: "application/json" });
        add("v2", { method: "POST", path: "/v2/finetuning", rawQuery: `Action=${segment}`, auth: "admin", body: Buffer.from("{}"), contentType: "application/json" });
        add("v1", { method: "POST", path: `/wenxinworkshop/${segment}`, auth: "admin", body: Buffer.from("{}"), contentType: "application/json" });
        add("events", { method: "GET", path: `/sailfin/v1/events/${segment}`, auth: "admin" });
        add("events", { method: "GET", path: "/sailfin/v1/events/task-abc", rawQuery: `lastEventId=${segment}`, auth: "admin" });
        add("events", { method: "GET", path: "/sailfin/v1/events/task-abc", auth: "none", rawQuery: `access_token=${segment}` });
        add("objects", { method: "PUT", path: `/sailfin/v1/objects/bucket/${segment}`, auth: "admin", body: Buffer.from("x") });
        add("objects", { method: "GET", path: `/sailfin/v1/objects/${segment}/a`, auth: "admin" });
        add("v2", { method: "GET", path: `/sailfin/v1/exports/${segment}/download`, rawQuery: `expires=${segment}&signature=${segment}`, auth: "none" });
        add("oauth", { method: "POST", path: "/oauth/2.0/token", rawQuery: `grant_type=client_credentials&client_id=${segment}&client_secret=${segment}`, auth: "none" });
        add("console", { method: "GET", path: `/console/${segment}`, auth: "none" });
        add("health", { method: "GET", path: "/healthz", rawQuery: `x=${segment}`, auth: "none" });
        add("session", { method: "GET", path: "/sailfin/v1/session", auth: "none", headers: { cookie: `sailfin_session=${segment}` } });
        add("session", { method: "DELETE", path: "/sailfin/v1/session", auth: "none", headers: { cookie: `sailfin_session=${segment}` } });
      }
      const chatFields = [...new Set([...fields, "model", "messages", "role", "content", "type", "text", "image_url", "stream", "stream_options", "include_usage", "n", "tools", "system", "max_completion_tokens", "max_output_tokens"])];
      for (let i = 0; i < 120; i++) {
        const auth = rng.pick(["admin", "none", "garbage", "unknown-key", "bearer"] as const);
        const headers = auth === "bearer" ? { authorization: `Bearer ${rng.pick(["bce-v3/ALTAK-aaaaaaaaaaaaaaaaaaaa/" + "0".repeat(40), "", "\u00ff", "x".repeat(3000)])}` } : undefined;
        const chat = i % 3 === 0
          ? { body: Buffer.from(JSON.stringify({ model: rng.pick(["down", "nosuch", "DOWN", ""]), messages: [{ role: rng.pick(["user", "assistant", "system", "tool"]), content: rng.pick(["hi", [{ type: "text", text: "x" }], [{ type: "image_url" }], 5, null]) }], n: rng.pick([1, 2, undefined]) })), contentType: "application/json" }
          : fuzzBody(rng, chatFields);
        add("openai", { method: "POST", path: "/v2/chat/completions", auth: auth === "bearer" ? "none" : auth, body: chat.body, contentType: chat.contentType, ...(headers === undefined ? {} : { headers }) });
        add("v1chat", { method: "POST", path: `/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/${rng.pick(["down", "nosuch", "%00", "a".repeat(300)])}`, auth: auth === "bearer" ? "none" : auth, body: chat.body, contentType: chat.contentType });
        // OpenAI's dialect: the same bodies (its models too: `ft:` names, none of which exists), and `Bearer AK:SK` pairs.
        const pairHeaders = auth === "bearer" ? { authorization: `Bearer ${rng.pick([`${ADMIN.accessKey}:${ADMIN.secretKey}`, `${ADMIN.accessKey}:wrong`, ":", "a:b:c", `${ADMIN.accessKey}:\u00ff`])}` } : headers;
        const openAiChat = i % 3 === 1
          ? { body: Buffer.from(JSON.stringify({ model: rng.pick(["ft:nosuch:sailfin::k3y", "ft:", "ft:a:b:c:d:ckpt-step-x", "down", "fuzz", ""]), messages: [{ role: "user", content: "hi" }] })), contentType: "application/json" }
          : chat;
        add("openai", { method: "POST", path: "/v1/chat/completions", auth: auth === "bearer" ? "none" : auth, body: openAiChat.body, contentType: openAiChat.contentType, ...(pairHeaders === undefined ? {} : { headers: pairHeaders }) });
        const model = rng.pick(["ft:nosuch:sailfin::k3y", "fuzz", "%00", "%ED%A0%80", "a".repeat(300), "ft%3Ax", "..", ""]);
        add("openaiModels", { method: rng.pick(["GET", "DELETE"]), path: `/v1/models${model === "" ? "" : `/${model}`}`, auth: auth === "bearer" ? "none" : auth, ...(pairHeaders === undefined ? {} : { headers: pairHeaders }) });
      }
      // OpenAI's files: multipart bodies built by hand (parts in any order, broken boundaries, odd
      // names and lines), lists with odd queries, and odd ids.
      const lines = ['{"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A", "weight": 0}]}',
        '{"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]}', '{"input": {"messages": [{"role": "user", "content": "Q"}]}, "preferred_output": [{"role": "assistant", "content": "A"}], "non_preferred_output": []}',
        '{"messages": "\\u0000"}', '{"messages": [{"role": "user", "content": "\\ud800"}]}', "\u0000\u00ff", "[1, 2", "x".repeat(3000), ""];
      for (let i = 0; i < 120; i++) {
        const boundary = rng.pick(["b0und4ry", "", "x".repeat(80)]);
        const parts: string[] = [];
        if (rng.chance(0.8)) parts.push(`Content-Disposition: form-data; name="purpose"\r\n\r\n${rng.pick(["fine-tune", "batch", "", "nope", "\u0000", "fine-tune".repeat(9000)])}`);
        if (rng.chance(0.3)) parts.push(`Content-Disposition: form-data; name="expires_after[seconds]"\r\n\r\n${rng.pick(["3600", "-1", "1e9", "", "99999999999999999999"])}`);
        if (rng.chance(0.3)) parts.push(`Content-Disposition: form-data; name="expires_after[anchor]"\r\n\r\n${rng.pick(["created_at", "", "%00"])}`);
        if (rng.chance(0.85)) {
          const name = rng.pick(["file", "file", "other", ""]);
          const filename = rng.pick(["train.jsonl", "", "a".repeat(300), "%00", "\u00ff\u00fe.jsonl", "../../etc/passwd"]);
          const content = Array.from({ length: 1 + rng.int(4) }, () => rng.pick(lines)).join(rng.pick(["\n", "\r\n"]));
          parts.push(`Content-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n${content}`);
        }
        if (rng.chance(0.5)) parts.reverse();
        const multipart = `${parts.map((part) => `--${boundary}\r\n${part}\r\n`).join("")}${rng.chance(0.9) ? `--${boundary}--\r\n` : ""}`;
        const contentType = rng.pick([`multipart/form-data; boundary=${boundary}`, "multipart/form-data", "application/json", "text/plain", `multipart/form-data; boundary="${boundary}"`]);
        add("openaiFiles", { method: "POST", path: "/v1/files", auth: rng.pick(["admin", "admin", "admin", "none", "garbage"] as const), body: Buffer.from(multipart, "latin1"), contentType });
      }
      for (const segment of [...odd, "file-nope", "10", "-1"]) {
        add("openaiFiles", { method: "GET", path: "/v1/files", rawQuery: `limit=${segment}&order=${segment}`, auth: "admin" });
        add("openaiFiles", { method: "GET", path: "/v1/files", rawQuery: `after=${segment}&purpose=${segment}`, auth: "admin" });
        add("openaiFiles", { method: "GET", path: `/v1/files/${segment}`, auth: "admin" });
        add("openaiFiles", { method: "GET", path: `/v1/files/${segment}/content`, auth: rng.pick(["admin", "none"] as const) });
        add("openaiFiles", { method: "DELETE", path: `/v1/files/${segment}`, auth: rng.pick(["admin", "garbage"] as const) });
      }
      // OpenAI's fine-tuning jobs: random bodies over its fields, hand-made methods, odd ids and cursors.
      const jobFields = [...new Set([...fields, "model", "training_file", "validation_file", "method", "type", "supervised", "dpo", "reinforcement",
        "hyperparameters", "n_epochs", "batch_size", "learning_rate_multiplier", "beta", "suffix", "seed", "metadata", "integrations"])];
      for (let i = 0; i < 60; i++) {
        const job = i % 2 === 0
          ? { body: Buffer.from(JSON.stringify({ model: rng.pick(["nosuch", "", "ft:a:b::c", "ft:a:b::c:ckpt-step-9", "\u0000"]), training_file: rng.pick(["file-nope", "", 5, null]),
              method: rng.pick([{ type: "supervised", supervised: { hyperparameters: { n_epochs: rng.pick(["auto", 0, 51, "x", 1e300, -1]) } } }, { type: "dpo", dpo: { hyperparameters: { beta: rng.pick([0, 3, "auto", null]) } } }, { type: "reinforcement" }, "x", null]),
              metadata: rng.pick([{ a: "b" }, { "": "x" }, [], "x", null]), suffix: rng.pick(["ok", "", "a b", "x".repeat(65), null]) })), contentType: "application/json" }
          : fuzzBody(rng, jobFields);
        add("openaiJobs", { method: "POST", path: "/v1/fine_tuning/jobs", auth: rng.pick(["admin", "admin", "none", "garbage"] as const), body: job.body, contentType: job.contentType });
      }
      for (const segment of [...odd, "ftjob-nope", "10", "-1"]) {
        add("openaiJobs", { method: "GET", path: "/v1/fine_tuning/jobs", rawQuery: `limit=${segment}&after=${segment}`, auth: "admin" });
        add("openaiJobs", { method: "GET", path: "/v1/fine_tuning/jobs", rawQuery: `metadata[${segment}]=${segment}`, auth: "admin" });
        add("openaiJobs", { method: "GET", path: `/v1/fine_tuning/jobs/${segment}`, auth: rng.pick(["admin", "none"] as const) });
        add("openaiJobs", { method: "GET", path: `/v1/fine_tuning/jobs/${segment}/events`, rawQuery: `limit=${segment}&after=${segment}`, auth: "admin" });
        add("openaiJobs", { method: "GET", path: `/v1/fine_tuning/jobs/${segment}/checkpoints`, rawQuery: `limit=${segment}`, auth: "admin" });
        add("openaiJobs", { method: "POST", path: `/v1/fine_tuning/jobs/${segment}/${rng.pick(["cancel", "pause", "resume"])}`, auth: rng.pick(["admin", "garbage"] as const) });
      }
      for (const segment of [...odd, "3600", "-1", "1e9", "99999999999999999999"]) {
        add("bearer", { method: "GET", path: "/v1/BCE-BEARER/token", rawQuery: `expireInSeconds=${segment}`, auth: rng.pick(["admin", "none", "garbage"] as const) });
      }
      const sessionFields = ["accessKey", "secretKey"];
      for (let i = 0; i < 60; i++) {
        const { body, contentType } = fuzzBody(rng, sessionFields);
        add("session", { method: "POST", path: "/sailfin/v1/session", auth: "none", body, contentType });
        const oauth = fuzzBody(rng, ["client_id", "client_secret", "grant_type"]);
        add("oauth", { method: "POST", path: "/oauth/2.0/token", auth: "none", body: oauth.body, contentType: oauth.contentType });
        const v1Body = fuzzBody(rng, fields);
        add("v2", { method: "POST", path: "/v2/dataset", rawQuery: `Action=${rng.pick(["CreateDataset", "%ED%A0%80", "%00", "Nope", ""])}`, auth: "admin", body: v1Body.body, contentType: v1Body.contentType });
      }
      await pool(jobs);
      const wrong = report();
      assert.deepEqual(wrong, [], `${wrong.length} kinds of wrong answers in ${requests} requests (seed ${SEED})`);
    });
  });
}
