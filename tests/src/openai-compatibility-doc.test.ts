import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { startTestServer, type TestServer } from "./harness.js";
import { isOpenAiRoute, registeredRoutes } from "./route-tree.js";

/**
 * docs/openai-compatibility.md and the server agree: every OpenAI route the app registers (under
 * `/v1/`, Qianfan's token route aside) is listed once as implemented or deviation; every row
 * marked so is registered; nothing marked not implemented is, and such a call gets a 404 in
 * OpenAI's error envelope (what the SDKs raise `NotFoundError` from).
 */

const DOC = new URL("../../docs/openai-compatibility.md", import.meta.url);
const STATUSES = ["implemented", "deviation", "not implemented"] as const;
type Status = (typeof STATUSES)[number];

interface DocRow {
  readonly route: string;
  readonly status: Status;
  readonly notes: string;
  readonly line: number;
}

function parseDoc(text: string): DocRow[] {
  const rows: DocRow[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (!line.startsWith("| `")) continue;
    const cells = line.split("|").slice(1, -1).map((cell) => cell.trim());
    const route = /^`([^`]+)`$/.exec(cells[0] ?? "")?.[1];
    const status = cells[1] as Status;
    if (route === undefined || !STATUSES.includes(status) || cells.length !== 3 || !/^[A-Z]+ \/v1\//.test(route)) {
      throw new Error(`docs/openai-compatibility.md:${i + 1}: expected | \`METHOD /v1/…\` | ${STATUSES.join("|")} | notes |, got: ${line}`);
    }
    rows.push({ route, status, notes: cells[2]!, line: i + 1 });
  }
  return rows;
}

/** A route with its parameters made anonymous: the doc's `{file_id}`, Fastify's `:file_id` and a trailing `*` alike. */
function shape(route: string): string {
  return route.replace(/\{[^}]+\}/g, "{}").replace(/:[A-Za-z_][A-Za-z0-9_]*/g, "{}").replace(/\/\*$/, "/{}");
}

/** A `not implemented` row may name a whole family with `*`. */
function matches(pattern: string, name: string): boolean {
  const escaped = pattern.split("*").map((part) => part.replace(/[.?+^$()[\]{}|\\]/g, "\\$&"));
  return new RegExp(`^${escaped.join(".*")}$`).test(name);
}

describe("docs/openai-compatibility.md matches the server's OpenAI routes", () => {
  let rows: DocRow[];
  let served: string[];
  let server: TestServer;
  before(async () => {
    rows = parseDoc(await readFile(DOC, "utf8"));
    server = await startTestServer("sqlite");
    await server.server.app.ready();
    const registered = registeredRoutes(server.server.app.printRoutes());
    // A change in printRoutes' format must fail here, not leave `served` quietly empty.
    assert.ok(registered.includes("GET /v1/BCE-BEARER/token"), "GET /v1/BCE-BEARER/token in the parsed router");
    served = registered.filter(isOpenAiRoute);
  });
  after(async () => { await server?.close(); });

  test("the document has rows in every status, each route once", () => {
    for (const status of STATUSES) assert.ok(rows.some((r) => r.status === status), status);
    const seen = new Map<string, number>();
    for (const row of rows) {
      assert.equal(seen.get(row.route), undefined, `${row.route} is listed on lines ${seen.get(row.route)} and ${row.line}`);
      seen.set(row.route, row.line);
    }
  });

  test("every OpenAI route the app registers is listed as implemented or deviation", () => {
    const listed = new Map(rows.filter((r) => r.status !== "not implemented").map((r) => [shape(r.route), r]));
    for (const name of served) assert.ok(listed.has(shape(name)), `${name} is served but not listed as implemented or deviation`);
  });

  test("every row marked implemented or deviation is served; deviations say how", () => {
    const shapes = new Set(served.map(shape));
    for (const row of rows.filter((r) => r.status !== "not implemented")) {
      assert.ok(shapes.has(shape(row.route)), `line ${row.line}: ${row.route} is marked ${row.status} but the server has no such route`);
      if (row.status === "deviation") assert.notEqual(row.notes, "", `line ${row.line}: say how ${row.route} differs`);
    }
  });

  test("every row marked not implemented is not served, says why, and answers 404 in OpenAI's envelope", async () => {
    for (const row of rows.filter((r) => r.status === "not implemented")) {
      assert.notEqual(row.notes, "", `line ${row.line}: say why ${row.route} is not implemented`);
      assert.deepEqual(served.filter((name) => matches(row.route, name)), [], `line ${row.line}: ${row.route} is marked not implemented but is served`);
      const [method, pattern] = row.route.split(" ") as [string, string];
      const path = pattern.replace(/\/\*$/, "/x").replace(/\*/g, "");
      const response = await fetch(`${server.url}${path}`, {
        method, headers: { authorization: "Bearer sk-nothing", "content-type": "application/json" }, ...(method === "GET" ? {} : { body: "{}" }),
      });
      const body = await response.json() as { error?: Record<string, unknown> };
      assert.equal(response.status, 404, `line ${row.line}: ${method} ${path} answered ${response.status} ${JSON.stringify(body)}`);
      assert.ok(body.error !== undefined, `line ${row.line}: ${JSON.stringify(body)}`);
      for (const key of ["message", "type", "param", "code"]) assert.ok(key in body.error, `line ${row.line}: error.${key} missing`);
      assert.equal(typeof body.error.message, "string");
    }
  });
});
