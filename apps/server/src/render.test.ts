import { test } from "node:test";
import assert from "node:assert/strict";
import Fastify from "fastify";
import { SailfinError } from "@sailfin/contract";
import { asciiHeader, sendError } from "./render.js";

test("asciiHeader renders any string: lone surrogates as U+FFFD, never a throw, and bounded", () => {
  assert.equal(asciiHeader("plain text"), "plain text");
  assert.equal(asciiHeader("a\ud800b"), "a%EF%BF%BDb");
  assert.equal(asciiHeader("\udc00"), "%EF%BF%BD");
  assert.equal(asciiHeader("😀"), "%F0%9F%98%80");
  assert.equal(asciiHeader("nul\u0000"), "nul%00");
  const long = asciiHeader("x".repeat(1_000_000));
  assert.ok(long.length <= 600, `${long.length} chars`);
  assert.ok(long.endsWith("%E2%80%A6"), "cut text ends in an ellipsis");
  assert.ok(asciiHeader("中".repeat(1_000_000)).length <= 500 * 9);
});

test("a V1 dataset-family internal error carries status 500; the caller's mistakes status 400", async () => {
  const app = Fastify();
  app.post("/:id", async (request, reply) => {
    const error = (request.params as { id: string }).id === "internal" ? new SailfinError("InternalError") : new SailfinError("InvalidParameter", { field: "datasetId" });
    return sendError(reply, "v1", error, { requestId: "r", logId: "1" }, true);
  });
  const internal = await app.inject({ method: "POST", url: "/internal" });
  assert.equal(internal.statusCode, 200);
  assert.deepEqual(internal.json(), { log_id: "1", error_code: 500000, error_msg: "internal server error", status: 500, success: false, code: 500000, message: "internal server error" });
  const refused = await app.inject({ method: "POST", url: "/refused" });
  assert.equal(refused.json().status, 400);
  await app.close();
});
