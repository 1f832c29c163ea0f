import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ADMIN, startTestServer, type TestServer } from "./harness.js";
import { NodeSdk } from "./node-sdk.js";
import { expectReachedRoutes } from "./sdk-node-coverage.js";
import { TINY, importModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";

/**
 * The service routes through the official Node SDK's `consoleAction` (JS/Go/Java reach
 * `/v2/service` only this way, §14.5): shapes and envelopes. No worker: a service reads
 * Deploying; serving is services-e2e.test.ts's. SQLite only (the SQL runs on both dialects there).
 */

let tiny: TinyModelFolders;
before(async () => { tiny = await writeTinyModels({ a: TINY }); });
after(async () => { await tiny.remove(); });

describe("official Node SDK consoleAction: services (sqlite)", () => {
  let server: TestServer;
  let sdk: NodeSdk;
  let model: Awaited<ReturnType<typeof importModel>>;
  before(async () => {
    server = await startTestServer("sqlite");
    sdk = new NodeSdk(server.url, ADMIN);
    await stageFolder(server, tiny.dir("a"), "hub", "node-svc");
    model = await importModel(server, "node-svc", { bucket: "hub", objectPath: "node-svc" });
  });
  after(async () => { await server?.close(); });

  test("V2 CreateService, DescribeService(s), ModifyService; V1 apply, detail, list", async () => {
    const created = (await sdk.v2("service", "CreateService", { modelSetId: model.setId, modelId: model.versionId, name: "node svc", urlSuffix: "node-svc" })).result;
    const detail = (await sdk.v2("service", "DescribeService", { serviceId: created.serviceId })).result;
    assert.equal(detail.runStatus, "Deploying");
    assert.equal(detail.url.split("/").at(-1), "node-svc");
    const list = (await sdk.v2("service", "DescribeServices", { maxKeys: 10 })).result;
    assert.deepEqual(list.serviceList.map((s: any) => s.serviceId), [created.serviceId]);
    assert.equal((await sdk.v2("service", "ModifyService", { serviceId: created.serviceId, modelSetId: model.setId, modelId: model.versionId })).result, true);
    const rejection = await sdk.v2Error("service", "CreateService", { modelId: model.versionId, name: "dup", urlSuffix: "node-svc" });
    assert.equal(rejection.status, 400);
    assert.match(rejection.body.message, /urlSuffix/);

    const applied = (await sdk.v1("/wenxinworkshop/service/apply", { modelId: model.setNum, modelVersionId: model.versionNum, name: "node v1", uri: "node-v1" })).result;
    assert.equal(applied.result, true);
    const v1detail = (await sdk.v1("/wenxinworkshop/service/detail", { serviceId: applied.serviceId })).result;
    assert.equal(v1detail.uri, "node-v1");
    const v1list = (await sdk.v1("/wenxinworkshop/service/list", { apiTypefilter: ["chat"] })).result;
    assert.deepEqual(v1list.common.map((s: any) => s.name).sort(), ["node svc", "node v1"]);
    for (const id of [created.serviceId, applied.serviceUuid]) await sdk.v2("service", "StopService", { serviceId: id });
  });

  test("every route this file declares was reached through the SDK", () => {
    expectReachedRoutes(sdk, "sdk-node-services.test.ts");
  });
});
