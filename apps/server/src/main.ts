import { randomBytes } from "node:crypto";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type pino from "pino";
import { openStore, type Store } from "@sailfin/store";
import {
  BackgroundTasks, DEFAULT_WEBHOOK_OPTIONS, IdleServiceSweeper, LocalArtifactStore, S3ArtifactStore, ensurePrivateFile, runFilesFor, sweepRunFiles, preparePrivateHome, SecretBox, WebhookDispatcher, countAccessKeys, createAccessKey,
  findCredential, parseMasterKey, type EngineResources,
  type FindChatTarget, type FineTunedModels,
} from "@sailfin/engine";
import { PythonNotFoundError, startLocalWorker, startServerKindsWorker, type Worker } from "@sailfin/worker";
import { buildApp } from "./app.js";
import type { ServerConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { StrandedWorkWarning, type StrandedWorkWarningOptions } from "./stranded-work-warning.js";

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly res: EngineResources;
  readonly store: Store;
  readonly url: string;
  /** The embedded worker, when started. */
  readonly worker: Worker | null;
  close(): Promise<void>;
}

export interface StartServerOptions {
  /** Run an embedded worker in this process (`sailfin serve` does unless `--no-worker`); default false. */
  readonly worker?: boolean;
  /** Worker id (default host-pid-random). */
  readonly workerId?: string;
  /**
   * Where warnings a person must see go (`sailfin serve`: stderr): no embedded worker, and
   * queued runs that no live worker takes. Without it the server warns nobody (tests).
   */
  readonly warn?: (line: string) => void;
  readonly strandedWork?: StrandedWorkWarningOptions;
  /** What serves a chat call's `model` (default: the deployed services; app.ts). */
  readonly findServingTarget?: FindChatTarget;
  /** Where `ft:` model names come from (default: the OpenAI fine-tuning jobs; app.ts). */
  readonly fineTunedModels?: FineTunedModels;
}

/** Store and engine resources from the configuration (the server and a standalone worker share it). */
export async function openEngine(config: ServerConfig): Promise<{ store: Store; res: EngineResources; log: pino.Logger }> {
  const log = createLogger(config.logLevel);
  // Owner-only files: this process's own writers and the runtime processes it starts (which
  // inherit the umask) never leave datasets, models or the database readable by other users.
  process.umask(0o077);
  const home = await preparePrivateHome(config.home);
  if (home.loose) log.warn(`SAILFIN_HOME ${config.home} is open to other users (mode ${home.mode.toString(8)}); run chmod 700 on it`);
  const artifacts = config.artifacts === null ? new LocalArtifactStore(config.home) : new S3ArtifactStore(config.artifacts);
  // A wrong bucket, endpoint or key fails the start, not the first upload.
  if (artifacts instanceof S3ArtifactStore) await artifacts.checkReachable();
  const sqlitePath = join(config.home, "sailfin.db");
  if (config.databaseUrl === undefined) {
    await ensurePrivateFile(sqlitePath);
    // Left by an older version with the umask's bits; SQLite only picks a mode when it creates them.
    for (const suffix of ["-wal", "-shm"]) await chmod(`${sqlitePath}${suffix}`, 0o600).catch(() => undefined);
  }
  const store = await openStore(
    config.databaseUrl !== undefined
      ? { dialect: "postgres", url: config.databaseUrl }
      : { dialect: "sqlite", path: sqlitePath },
  );
  if (artifacts instanceof LocalArtifactStore) {
    const swept = await artifacts.sweepTemporaries();
    if (swept.files > 0) log.warn(`removed ${swept.files} temporary files (${swept.bytes} bytes) that stopped writers left in ${join(config.home, ".tmp")}`);
  }
  if (artifacts instanceof S3ArtifactStore) {
    const aborted = await artifacts.abortStaleUploads();
    if (aborted > 0) log.warn(`aborted ${aborted} multipart uploads that stopped writers left in SAILFIN_ARTIFACTS`);
  }
  const files = runFilesFor(artifacts, config.workDir);
  const staged = await sweepRunFiles(files);
  if (staged > 0) log.warn(`removed ${staged} staging folders that stopped processes left in ${config.workDir}`);
  const res: EngineResources = {
    db: store.db,
    dialect: store.dialect,
    artifacts,
    files,
    secrets: new SecretBox(await loadMasterKey(config)),
    log,
    background: new BackgroundTasks((name, error) => log.error({ err: error }, `background task ${name} failed`)),
    judge: config.judge,
    pools: config.pools,
  };
  return { store, res, log };
}

/**
 * Opens the store, bootstraps credentials, builds the app and listens. The only function that
 * binds a port; `sailfin serve` and the tests both call it.
 */
export async function startServer(
  config: ServerConfig, print: (line: string) => void = console.log, options: StartServerOptions = {},
): Promise<RunningServer> {
  const { store, res, log } = await openEngine(config);
  await bootstrapAdmin(res, config, print);
  const settings = config.worker;
  let worker: Worker | null = null;
  if (options.worker === true) {
    try {
      worker = await startLocalWorker(res, settings, options.workerId);
      print(`sailfin worker ${worker.id} started`);
    } catch (error) {
      // The API stays useful without training (datasets, models, keys); say why nothing trains.
      if (!(error instanceof PythonNotFoundError)) throw error;
      (options.warn ?? print)(`sailfin: warning: no embedded worker, so queued tasks will not run: ${error.message}`);
    }
  }
  // Every serving process runs SERVER_KINDS (dataset and model imports and exports), Python or not,
  // in a worker of their own: an import never waits there behind a compression or a publish.
  const serverKinds = await startServerKindsWorker(res, settings, options.workerId === undefined ? undefined : `${options.workerId}-imports`);
  const app = await buildApp(res, {
    bodyLimit: config.bodyLimit, uploadLimit: config.uploadLimit, logger: log, eventsPollMs: config.eventsPollMs,
    sessionTtlS: config.sessionTtlS, consoleDir: config.consoleDir, trustProxy: config.trustProxy, publicUrl: config.publicUrl,
    openAiOrganization: config.openAiOrganization,
    ...(options.findServingTarget === undefined ? {} : { findServingTarget: options.findServingTarget }),
    ...(options.fineTunedModels === undefined ? {} : { fineTunedModels: options.fineTunedModels }),
    onDemand: { idleStopS: config.onDemand.idleStopS, deployWaitMs: config.onDemand.deployWaitMs },
  });
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    // The port is taken (or similar): leave nothing running behind the error.
    await worker?.stop();
    await serverKinds.stop();
    await app.close();
    await store.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.port;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  print(`sailfin listening on ${url}`);
  // Every serving process sends webhooks: replicas share the work through the delivery rows.
  const webhooks = new WebhookDispatcher(res, { ...DEFAULT_WEBHOOK_OPTIONS, ...config.webhooks });
  webhooks.start();
  // Every serving process sweeps: replicas racing for one service stop it once (idle-services.ts).
  const idleSweeper = new IdleServiceSweeper(res, config.onDemand.sweepMs);
  idleSweeper.start();
  const stranded = options.warn === undefined ? null : new StrandedWorkWarning(res, options.warn, options.strandedWork);
  stranded?.start();
  return {
    app, res, store, url, worker,
    async close() {
      await stranded?.stop();
      await idleSweeper.stop();
      await webhooks.stop();
      await worker?.stop();
      await serverKinds.stop();
      await app.close();
      await res.background.drain();
      await store.close();
    },
  };
}

/** `SAILFIN_MASTER_KEY`, else `SAILFIN_HOME/master.key` (created 0600 on first start). */
async function loadMasterKey(config: ServerConfig): Promise<Buffer> {
  if (config.masterKey !== undefined) return parseMasterKey(config.masterKey);
  const path = join(config.home, "master.key");
  try {
    return parseMasterKey(await readFile(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const key = randomBytes(32);
  await writeFile(path, `${key.toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  return key;
}

/**
 * The admin pair: from `SAILFIN_ACCESS_KEY`/`SAILFIN_SECRET_KEY` when set, else generated on
 * the first start, written to `SAILFIN_HOME/credentials.json` (0600) and printed once.
 */
async function bootstrapAdmin(res: EngineResources, config: ServerConfig, print: (line: string) => void): Promise<void> {
  if (config.bootstrapAccessKey !== undefined && config.bootstrapSecretKey !== undefined) {
    const existing = await findCredential(res, config.bootstrapAccessKey);
    if (existing === null) {
      await createAccessKey(res, {
        accessKey: config.bootstrapAccessKey, secretKey: config.bootstrapSecretKey,
        policies: ["QianfanFullControlAccessPolicy"], description: "admin (from SAILFIN_ACCESS_KEY)",
      });
    } else if (existing.secretKey !== config.bootstrapSecretKey) {
      throw new Error("SAILFIN_ACCESS_KEY already exists with a different secret key; delete it or use its secret");
    }
    return;
  }
  if ((await countAccessKeys(res)) > 0) return;
  const admin = await createAccessKey(res, { policies: ["QianfanFullControlAccessPolicy"], description: "admin (generated)" });
  const path = join(config.home, "credentials.json");
  await writeFile(path, `${JSON.stringify({ accessKey: admin.accessKey, secretKey: admin.secretKey }, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  print(`sailfin generated an admin key pair (saved to ${path}, shown only once):`);
  print(`  QIANFAN_ACCESS_KEY=${admin.accessKey}`);
  print(`  QIANFAN_SECRET_KEY=${admin.secretKey}`);
}
