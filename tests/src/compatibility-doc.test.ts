import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { ROUTES, routeName, type RouteDef } from "@sailfin/server";
import { startTestServer, type TestServer } from "./harness.js";
import { isOpenAiRoute, registeredRoutes } from "./route-tree.js";

/**
 * docs/compatibility.md and the server agree: every JSON route of ROUTES is listed once, as
 * implemented or deviation (as extension when declared `extension`, in the extensions section);
 * nothing listed as served is missing; nothing listed as not implemented is served. Routes outside
 * ROUTES (the ext/ Fastify routes, OAuth) are read from the running app's router. OpenAI's `/v1/`
 * routes need to be listed only in docs/openai-compatibility.md (openai-compatibility-doc.test.ts).
 */

const DOC = new URL("../../docs/compatibility.md", import.meta.url);
const STATUSES = ["implemented", "deviation", "not implemented", "extension"] as const;
type Status = (typeof STATUSES)[number];
const EXTENSIONS_HEADING = "Sailfin extensions";

interface DocRow {
  readonly route: string;
  readonly status: Status;
  readonly notes: string;
  readonly section: string;
  readonly line: number;
}

/** Table rows whose first cell is a backticked route; any other status word is an error. */
function parseCompatibilityDoc(text: string): DocRow[] {
  const rows: DocRow[] = [];
  let section = "";
  for (const [i, line] of text.split("\n").entries()) {
    const heading = /^##\s+(.*)$/.exec(line);
    if (heading) section = heading[1]!.trim();
    if (!line.startsWith("| `")) continue;
    const cells = line.split("|").slice(1, -1).map((cell) => cell.trim());
    const route = /^`([^`]+)`$/.exec(cells[0] ?? "")?.[1];
    const status = cells[1] as Status;
    if (route === undefined || !STATUSES.includes(status) || cells.length !== 3) {
      throw new Error(`docs/compatibility.md:${i + 1}: expected | \`route\` | ${STATUSES.join("|")} | notes |, got: ${line}`);
    }
    rows.push({ route, status, notes: cells[2]!, section, line: i + 1 });
  }
  return rows;
}

/** True for the routes ROUTES declares (V2 actions, V1 paths); the others (V2 chat included) are Fastify's own. */
function isJsonRoute(route: string): boolean {
  return (route.startsWith("POST /v2/") && route !== "POST /v2/chat/completions") || route.startsWith("POST /wenxinworkshop/");
}

/** A `not implemented` row may name a whole family with `*`. */
function matches(pattern: string, name: string): boolean {
  const escaped = pattern.split("*").map((part) => part.replace(/[.?+^$()[\]{}|\\]/g, "\\$&"));
  return new RegExp(`^${escaped.join(".*")}$`).test(name);
}

describe("docs/compatibility.md matches the server's routes", () => {
  let text: string;
  let parsed: DocRow[] | undefined;
  let server: TestServer;
  /** Registered routes that ROUTES does not declare (ext/, OAuth, health). */
  let others: string[];
  const byName = new Map<string, RouteDef>(ROUTES.map((def) => [routeName(def), def]));
  before(async () => {
    text = await readFile(DOC, "utf8");
    server = await startTestServer("sqlite");
    await server.server.app.ready();
    const registered = registeredRoutes(server.server.app.printRoutes());
    // A change in printRoutes' format must fail here, not leave `others` quietly empty.
    for (const def of ROUTES) if (def.dialect === "v1") assert.ok(registered.includes(routeName(def)), `${routeName(def)} in the parsed router`);
    assert.ok(registered.includes("POST /v2/:resource"), "POST /v2/:resource in the parsed router");
    // Each V2 resource of ROUTES also has a static path served by the same gate as /v2/:resource.
    const v2Paths = new Set(ROUTES.flatMap((def) => (def.dialect === "v2" ? [`POST /v2/${def.resource}`] : [])));
    for (const path of v2Paths) assert.ok(registered.includes(path), `${path} in the parsed router`);
    others = registered.filter((name) => name !== "POST /v2/:resource" && !v2Paths.has(name) && !byName.has(name));
  });
  /** Parsed on first use, so that a malformed row fails the tests with its line. */
  const docRows = (): DocRow[] => (parsed ??= parseCompatibilityDoc(text));
  after(async () => { await server?.close(); });

  test("the document has rows in every status and the extensions section", () => {
    const rows = docRows();
    for (const status of STATUSES) assert.ok(rows.some((r) => r.status === status), status);
    assert.ok(rows.some((r) => r.section === EXTENSIONS_HEADING));
  });

  test("no route is listed twice", () => {
    const seen = new Map<string, number>();
    for (const row of docRows()) {
      assert.equal(seen.get(row.route), undefined, `${row.route} is listed on lines ${seen.get(row.route)} and ${row.line}`);
      seen.set(row.route, row.line);
    }
  });

  test("every route of ROUTES is listed, as extension exactly when it is declared so", () => {
    const listed = new Map(docRows().map((r) => [r.route, r]));
    for (const def of ROUTES) {
      const name = routeName(def);
      const row = listed.get(name);
      assert.ok(row, `${name} is served but not listed in docs/compatibility.md`);
      if (def.dialect === "v2" && def.extension === true) {
        assert.equal(row.status, "extension", `${name} is declared extension: list it under "${EXTENSIONS_HEADING}" (line ${row.line})`);
      } else {
        assert.ok(row.status === "implemented" || row.status === "deviation",
          `${name} is served (not declared extension) but line ${row.line} says ${row.status}`);
      }
    }
  });

  test("every route the app registers outside ROUTES is listed as implemented, deviation or extension", () => {
    assert.ok(others.length > 0);
    const listed = new Map(docRows().map((r) => [r.route, r]));
    // OpenAI's dialect must be listed on its own page (openai-compatibility-doc.test.ts); a row here is checked as any.
    for (const name of others.filter((route) => !isOpenAiRoute(route))) {
      const row = listed.get(name);
      assert.ok(row, `${name} is served but not listed in docs/compatibility.md`);
      assert.notEqual(row.status, "not implemented", `${name} is served but line ${row.line} says not implemented`);
    }
  });

  test("every row marked served is served; extensions only in their section", () => {
    for (const row of docRows().filter((r) => r.status !== "not implemented")) {
      assert.equal(row.section === EXTENSIONS_HEADING, row.status === "extension", `line ${row.line}: ${row.status} in section "${row.section}"`);
      if (isJsonRoute(row.route)) {
        const def = byName.get(row.route);
        assert.ok(def, `line ${row.line}: ${row.route} is marked ${row.status} but is not in ROUTES`);
        if (row.status === "extension") {
          assert.ok(def.dialect === "v2" && def.extension === true, `line ${row.line}: ${row.route} is listed as an extension but not declared v2(…, extension = true)`);
        }
      } else {
        assert.ok(others.includes(row.route), `line ${row.line}: ${row.route} is marked ${row.status} but the server has no such route`);
      }
    }
  });

  test("every row marked not implemented is not served, and says why", () => {
    for (const row of docRows().filter((r) => r.status === "not implemented")) {
      assert.notEqual(row.notes, "", `line ${row.line}: say why ${row.route} is not implemented`);
      const served = [...ROUTES.map(routeName), ...others].filter((name) => matches(row.route, name));
      assert.deepEqual(served, [], `line ${row.line}: ${row.route} is marked not implemented but is served`);
    }
  });

  test("every deviation states the difference", () => {
    for (const row of docRows().filter((r) => r.status === "deviation")) assert.notEqual(row.notes, "", `line ${row.line}: ${row.route}`);
  });
});
