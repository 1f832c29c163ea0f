import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { writeTinyModel } from "@sailfin/engine";
import { ROUTES } from "@sailfin/server";
import type { Client } from "@sailfin/cli";
import type { TestServer } from "./harness.js";

/**
 * Shared pieces of the official-SDK tests (sdk-node.test.ts, sdk-python.test.ts): which routes
 * exist yet, and the training inputs a fine-tuning task needs (a base model and a released
 * dataset version).
 */

/** True when the server declares this V2 action. */
export function hasV2(resource: string, action: string): boolean {
  return ROUTES.some((r) => r.dialect === "v2" && r.resource === resource && r.action === action);
}

/** True when the server declares this V1 path. */
export function hasV1(path: string): boolean {
  return ROUTES.some((r) => r.dialect === "v1" && r.path === path);
}

/** `false` when every route is there, else the reason to skip (node:test `skip` option). */
export function skipUnless(...routes: Array<[string, string] | string>): false | string {
  const missing = routes.filter((r) => (typeof r === "string" ? !hasV1(r) : !hasV2(r[0], r[1])));
  if (missing.length === 0) return false;
  return `route not implemented yet: ${missing.map((r) => (typeof r === "string" ? r : `/v2/${r[0]}?Action=${r[1]}`)).join(", ")}`;
}

/**
 * An admin key pair of its own for one test server. The engine caches credentials per process,
 * keyed by access key only (packages/engine/src/iam/access-keys.ts), so when the sqlite and
 * postgres servers of one test file share the harness's ADMIN pair, the second server finds
 * ADMIN in that cache at bootstrap, never writes it to its own database, and refuses it with
 * InvalidAccessKeyId once the 5 s cache entry expires. A distinct pair per server avoids that.
 */
export function sdkAdmin(file: string, dialect: string): { accessKey: string; secretKey: string } {
  return { accessKey: `sdk-${file}-${dialect}-admin`, secretKey: `sdk-${file}-${dialect}-secret-0001` };
}

/** The `env` for startTestServer that bootstraps that pair as the server's admin. */
export function adminEnv(admin: { accessKey: string; secretKey: string }): Record<string, string> {
  return { SAILFIN_ACCESS_KEY: admin.accessKey, SAILFIN_SECRET_KEY: admin.secretKey };
}

export interface TrainingInputs {
  /** Base model name: what CreateFineTuningJob's `model` names. */
  readonly baseModel: string;
  /** The base model's set (`am-…`) and Ready version (`amv-…`), with their V1 numbers. */
  readonly baseModelSetId: string;
  readonly baseModelSetNum: number;
  readonly baseModelVersionId: string;
  readonly baseModelVersionNum: number;
  /** A released dataset version id (`ds-…`): what datasetConfig.versions[].versionId names. */
  readonly datasetVersionId: string;
  readonly datasetVersionNum: number;
}

/**
 * A base model and a released SFT dataset version for the fine-tuning calls.
 *
 * The base model goes through the real model-repository API: a tiny Llama written by
 * `writeTinyModel`, uploaded into a bucket, `CreateCustomModelSet`, `CreateCustomModel`
 * (sourceType Import), then `DescribeModel` until the import check has made it Ready.
 *
 * The dataset goes through the real dataset API: a JSONL file uploaded into a bucket,
 * `CreateDataset`, `CreateImportTask`, `PublishDatasetVersion`, each waited for with
 * `DescribeDatasetVersion`.
 *
 * `admin` is a full-control client of this server (the tests give each server its own admin
 * pair; see sdkAdmin).
 */
export async function seedTrainingInputs(server: TestServer, admin: Client, tag: string): Promise<TrainingInputs> {
  const model = await importBaseModel(server, admin, `sdk-base-${tag}`);
  const dataset = await importReleasedDatasetVersion(server, admin, `sdk-data-${tag}`);
  return { ...model, ...dataset };
}

async function importBaseModel(server: TestServer, admin: Client, name: string) {
  const dir = await mkdtemp(join(tmpdir(), "sailfin-sdk-model-"));
  try {
    const info = await writeTinyModel(dir, { architecture: "llama", seed: 7 });
    for (const file of info.files) {
      const bytes = await readFile(join(dir, file));
      await admin.upload(`/sailfin/v1/objects/sdk-models/${name}/${file}`, bytes, bytes.length);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const setId = await admin.v2<string>("model", "CreateCustomModelSet", { modelSetName: name, modelType: "Text2Text" });
  const created = await admin.v2<{ modelId: string }>("model", "CreateCustomModel", {
    modelSetId: setId, sourceType: "Import", importMeta: { bucket: "sdk-models", objectPath: `${name}/` },
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const version = await admin.v2<{ status: string }>("model", "DescribeModel", { modelId: created.modelId });
    if (version.status === "Ready") break;
    if (version.status !== "Creating" || Date.now() > deadline) throw new Error(`base model import ended ${version.status}: ${JSON.stringify(version)}`);
    await sleep(25);
  }
  // The V1 numeric twins, as V1 routes take and return them.
  const set = await server.server.res.db.selectFrom("model_sets").select("num").where("id", "=", setId).executeTakeFirstOrThrow();
  const version = await server.server.res.db.selectFrom("model_versions").select("num").where("id", "=", created.modelId).executeTakeFirstOrThrow();
  return { baseModel: name, baseModelSetId: setId, baseModelSetNum: Number(set.num), baseModelVersionId: created.modelId, baseModelVersionNum: Number(version.num) };
}

/** A PromptResponse dataset imported from a bucket and published, through `/v2/dataset`. */
async function importReleasedDatasetVersion(server: TestServer, admin: Client, name: string) {
  const lines = ["你好", "what is sailfin?", "2+2"].map((q, i) => JSON.stringify([{ prompt: q, response: [[`answer ${i}`]] }]));
  const bytes = Buffer.from(`${lines.join("\n")}\n`);
  await admin.upload(`/sailfin/v1/objects/sdk-data/${name}/train.jsonl`, bytes, bytes.length);
  const created = await admin.v2<{ versionId: string }>("dataset", "CreateDataset", {
    datasetName: name, dataFormat: "PromptResponse", storageType: "sysStorage",
  });
  const versionId = created.versionId;
  await admin.v2("dataset", "CreateImportTask", { versionId, files: [`bos:/sdk-data/${name}/train.jsonl`] });
  await waitForVersion(admin, versionId, (v) => v.importStatus === "Finished", (v) => v.importStatus === "Failed" || v.importStatus === "Terminated");
  await admin.v2("dataset", "PublishDatasetVersion", { versionId });
  await waitForVersion(admin, versionId, (v) => v.publishStatus === "Published", (v) => v.publishStatus === "PublishFailed");
  const row = await server.server.res.db.selectFrom("dataset_versions").select("num").where("id", "=", versionId).executeTakeFirstOrThrow();
  return { datasetVersionId: versionId, datasetVersionNum: Number(row.num) };
}

type VersionView = { importStatus: string; publishStatus: string };

async function waitForVersion(admin: Client, versionId: string, done: (v: VersionView) => boolean, failed: (v: VersionView) => boolean) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const version = await admin.v2<VersionView>("dataset", "DescribeDatasetVersion", { versionId });
    if (done(version)) return;
    if (failed(version) || Date.now() > deadline) throw new Error(`dataset version ${versionId} did not get there: ${JSON.stringify(version)}`);
    await sleep(25);
  }
}
