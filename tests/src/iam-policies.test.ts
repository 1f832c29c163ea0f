import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { POLICIES, READ_ONLY_POLICIES, isMutatingAction, policiesAllow, type PolicyName } from "@sailfin/contract";
import { ROUTES, routeName, type RouteDef } from "@sailfin/server";
import { rawCall, startTestServer, testDialects, type TestServer } from "./harness.js";

/**
 * Table-driven: every read-only policy is denied every mutating route, in the dialect's own
 * envelope, before the body is even looked at; and every policy may call what it grants.
 */
async function callRoute(server: TestServer, def: RouteDef, credentials: { accessKey: string; secretKey: string }) {
  return def.dialect === "v2"
    ? rawCall(server.url, { path: `/v2/${def.resource}`, query: { Action: def.action }, body: "{}", credentials })
    : rawCall(server.url, { path: def.path, body: "{}", credentials });
}

function isDenied(def: RouteDef, r: { status: number; body: any }): boolean {
  return def.dialect === "v2"
    ? r.status === 403 && r.body?.code === "AccessDenied"
    : r.status === 200 && r.body?.error_code === 500002;
}

const dialect = testDialects()[0]!;

describe(`IAM policies on every route (${dialect})`, () => {
  let server: TestServer;
  const keys = new Map<PolicyName, { accessKey: string; secretKey: string }>();
  before(async () => {
    server = await startTestServer(dialect);
    for (const policy of Object.keys(POLICIES) as PolicyName[]) {
      keys.set(policy, (await server.clientWith(policy)).config);
    }
  });
  after(async () => { await server.close(); });

  test("the route table is not empty and every route declares an action", () => {
    assert.ok(ROUTES.length > 0);
    for (const def of ROUTES) assert.ok(def.iam, routeName(def));
  });

  test("read-only policies exist for the table below", () => {
    assert.ok(READ_ONLY_POLICIES.includes("QianfanReadAccessPolicy"));
    assert.ok(READ_ONLY_POLICIES.includes("QianfanModelTuningReadAccessPolicy"));
  });

  for (const policy of READ_ONLY_POLICIES) {
    test(`${policy} is denied every mutating route`, async () => {
      const mutating = ROUTES.filter((def) => isMutatingAction(def.iam));
      assert.ok(mutating.length > 0);
      for (const def of mutating) {
        const r = await callRoute(server, def, keys.get(policy)!);
        assert.ok(isDenied(def, r), `${policy} on ${routeName(def)}: ${r.status} ${JSON.stringify(r.body)}`);
      }
    });

    test(`${policy} is denied uploads into buckets`, async () => {
      const r = await rawCall(server.url, {
        method: "PUT", path: "/sailfin/v1/objects/bucket/file.jsonl", body: "x", credentials: keys.get(policy)!,
      });
      assert.equal(r.status, 403);
      assert.equal(r.body.code, "AccessDenied");
    });
  }

  test("every policy passes authorization exactly on the routes it grants", async () => {
    for (const policy of Object.keys(POLICIES) as PolicyName[]) {
      for (const def of ROUTES) {
        // Only the authorization decision is checked: a body of {} may still be refused later.
        const r = await callRoute(server, def, keys.get(policy)!);
        const allowed = policiesAllow([policy], def.iam);
        assert.equal(!isDenied(def, r), allowed, `${policy} on ${routeName(def)} (${def.iam}): ${r.status} ${JSON.stringify(r.body)}`);
      }
    }
  });
});
