import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ADMIN, startTestServer, type TestServer } from "./harness.js";
import { PythonSdk, okBody, pyEnum, pythonSdkMissing } from "./python-sdk.js";
import { expectReachedRoutes } from "./sdk-python-coverage.js";
import { TINY, importModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";

/**
 * The service routes through the official Python SDK's typed helpers (`Service.V2.*` and the V1
 * `Service.create/get/list`, §14.2, §14.4). No worker: services read Deploying; Model.deploy to
 * Serving is in services-e2e.test.ts. SQLite only (the SQL runs on both dialects there).
 */

const missing = pythonSdkMissing();
let tiny: TinyModelFolders;
before(async () => { tiny = await writeTinyModels({ a: TINY }); });
after(async () => { await tiny.remove(); });

describe("official Python SDK: services (sqlite)", { skip: missing ?? false }, () => {
  let server: TestServer;
  let py: PythonSdk;
  let model: Awaited<ReturnType<typeof importModel>>;
  before(async () => {
    server = await startTestServer("sqlite");
    py = new PythonSdk({ ...ADMIN, baseUrl: server.url });
    await stageFolder(server, tiny.dir("a"), "hub", "py-svc");
    model = await importModel(server, "py-svc", { bucket: "hub", objectPath: "py-svc" });
  });
  after(async () => { await py?.close(); await server?.close(); });

  test("Service.V2 create/detail/list/modify and V1 Service.create/get/list", async () => {
    const created = okBody(await py.helper("Service.V2.create_service", {
      model_set_id: model.setId, model_id: model.versionId, name: "py_svc", url_suffix: "py-svc",
      resource_config: { type: "GPU-I-2", replicasCount: 1, qps: 0.5 }, billing: { paymentTiming: "Prepaid" },
    })).result;
    assert.match(created.serviceId, /^svco-/);
    const detail = okBody(await py.helper("Service.V2.service_detail", { service_id: created.serviceId })).result;
    assert.equal(detail.runStatus, "Deploying");
    assert.equal(detail.endpoint, "py-svc");
    const list = okBody(await py.helper("Service.V2.service_list", {})).result;
    assert.equal(list.serviceList[0].serviceId, created.serviceId);
    okBody(await py.helper("Service.V2.modify_service", { service_id: created.serviceId, model_set_id: model.setId, model_id: model.versionId }));

    const applied = okBody(await py.helper("Service.create", {
      model_id: model.setNum, model_version_id: model.versionNum, name: "py_v1", uri: "py-v1", replicas: 1, pool_type: pyEnum("DeployPoolType.PrivateResource"),
    })).result;
    assert.equal(typeof applied.serviceId, "number");
    const got = okBody(await py.helper("Service.get", { id: applied.serviceId })).result;
    assert.ok(got.vmConfig !== undefined && got.creator === ADMIN.accessKey, JSON.stringify(got));
    const listed = okBody(await py.helper("Service.list", {})).result;
    assert.ok(listed.common.some((s: any) => s.url.endsWith("/py-v1")), JSON.stringify(listed));
  });

  test("every route this file declares was reached through the SDK", () => {
    expectReachedRoutes(py, "sdk-python-services.test.ts");
  });
});
