import { test } from "node:test";
import assert from "node:assert/strict";
import Fastify from "fastify";
import { isSailfinError } from "@sailfin/contract";
import type { Credential, EngineResources } from "@sailfin/engine";
import { assertGranted, installGate } from "./gate.js";

// No request below reaches the engine: an open route reads nothing, and a request without an
// Authorization header is refused before any key is looked up.
const NO_ENGINE = {} as EngineResources;

test("a route that declares no access is refused when registered, in a child scope too", async () => {
  const app = Fastify();
  installGate(app, NO_ENGINE);
  assert.throws(() => app.get("/forgot", async () => "open"), /GET \/forgot declares no config\.access/);
  await app.register(async (scope) => {
    assert.throws(() => scope.put("/scoped/forgot", async () => "open"), /PUT \/scoped\/forgot declares no config\.access/);
  });
  await app.close();
});

test("an open route gets its dialect's state; a gated one refuses an unsigned caller before its handler", async () => {
  const app = Fastify();
  installGate(app, NO_ENGINE);
  let handled = 0;
  app.setErrorHandler((error, request, reply) =>
    reply.code(418).send({ id: isSailfinError(error) ? error.id : "other", dialect: request.sailfin?.dialect }));
  app.get("/open", { config: { access: { open: "a test", dialect: "oauth" } } }, async (request) => request.sailfin);
  app.get("/gated", { config: { access: { dialect: "v1", iam: "storage:read" } } }, async () => {
    handled++;
    return "reached";
  });
  const open = await app.inject({ url: "/open" });
  assert.equal(open.json().dialect, "oauth");
  assert.equal(open.json().logId, "", "only V1 draws a log_id");
  const gated = await app.inject({ url: "/gated" });
  assert.deepEqual(gated.json(), { id: "InvalidHTTPAuthHeader", dialect: "v1" });
  // HEAD, which Fastify adds for every GET, goes through the same gate.
  assert.equal((await app.inject({ method: "HEAD", url: "/gated" })).statusCode, 418);
  assert.equal(handled, 0);
  await app.close();
});

test("assertGranted refuses a caller whose policies grant none of the actions, naming them", () => {
  const reader = { policies: ["QianfanDataReadAccessPolicy"] } as unknown as Credential;
  assertGranted(reader, "storage:read");
  assertGranted(reader, ["tuning:read", "dataset:read"]);
  assert.throws(() => assertGranted(reader, "storage:write"), (e: unknown) =>
    isSailfinError(e) && e.id === "AccessDenied" && e.detail === "the key's policies do not grant storage:write");
  assert.throws(() => assertGranted(reader, ["tuning:read", "eval:read"]), (e: unknown) =>
    isSailfinError(e) && e.id === "AccessDenied" && e.detail === "the key's policies grant none of tuning:read, eval:read");
});
