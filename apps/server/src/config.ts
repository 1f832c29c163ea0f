import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { workerSettingsFromEnv, type WorkerSettings } from "@sailfin/worker";
import { LOCAL_POOLS, NO_JUDGE_ENDPOINTS, judgeEndpointsFromEnv, poolsFromEnv, type JudgeEndpoints, type ResourcePools, type S3ArtifactSettings } from "@sailfin/engine";

/**
 * The server's configuration, parsed once from flags and `SAILFIN_*` variables, reporting every
 * problem at once, then frozen and passed down.
 */
export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly home: string;
  /**
   * Where artifacts live (SAILFIN_ARTIFACTS): null for the local folder `home` (the default), or
   * a bucket and prefix of an S3-compatible store (`s3://bucket/prefix`) reached with the
   * standard AWS variables (AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
   */
  readonly artifacts: S3ArtifactSettings | null;
  /**
   * This node's work folder (SAILFIN_WORK_DIR, default `<home>/work`): where runs stage their
   * inputs from, and write their outputs before uploading, a store that is not the local folder.
   */
  readonly workDir: string;
  readonly databaseUrl: string | undefined;
  readonly masterKey: string | undefined;
  readonly bootstrapAccessKey: string | undefined;
  readonly bootstrapSecretKey: string | undefined;
  readonly bodyLimit: number;
  readonly uploadLimit: number;
  readonly logLevel: string;
  /** How often a live event stream looks for new rows (SAILFIN_EVENTS_POLL_MS). */
  readonly eventsPollMs: number;
  /** Judge endpoints `model` evaluations may call, with their keys (SAILFIN_JUDGE_*; see judgeEndpointsFromEnv). */
  readonly judge: JudgeEndpoints;
  /**
   * Resource pools (SAILFIN_POOLS, JSON text or a file; without it one `local` pool that
   * SAILFIN_EXECUTOR and SAILFIN_SLURM_* shape): the API checks `resourceConfig` against them and
   * workers serve them (docs/scale-out.md).
   */
  readonly pools: ResourcePools;
  /**
   * The worker settings (SAILFIN_WORKER_*, SAILFIN_POLL_MS, SAILFIN_DEVICE …; see
   * workerSettingsFromEnv) of the workers this process runs, read from the same variables as the
   * rest, so a server started with its own env (the tests) runs its workers by it too.
   */
  readonly worker: WorkerSettings;
  /**
   * Which proxies to believe about the client's address (SAILFIN_TRUST_PROXY: unset or "false",
   * "true" for any, or comma-separated proxy addresses / CIDRs, as Fastify's `trustProxy`). The
   * sign-in limiter counts failures per client address: behind a proxy without this, every
   * client shares the proxy's address. Only a trusted proxy's X-Forwarded-Host may stand for the
   * host a signature was made for.
   */
  readonly trustProxy: boolean | string;
  /** How long a console session lasts, in seconds (SAILFIN_SESSION_TTL_S, default 12 h). */
  readonly sessionTtlS: number;
  /** The built web console served under /console/ (SAILFIN_CONSOLE_DIR, default apps/console/dist). */
  readonly consoleDir: string;
  /**
   * The base URL clients reach this server at (SAILFIN_PUBLIC_URL, e.g. `https://sailfin.example`):
   * service `url`s are built on it. Unset: the request's own origin.
   */
  readonly publicUrl: string | undefined;
  /**
   * Serving models on demand for OpenAI's `/v1/chat/completions` (docs/openai.md "Calling
   * fine-tuned models"): a service it starts stops after SAILFIN_OPENAI_IDLE_STOP_SEC idle seconds
   * (default 900, 0: never); a call waits SAILFIN_OPENAI_DEPLOY_WAIT_SEC (default 120) for the
   * engine before answering 503; idle services are looked for every SAILFIN_OPENAI_IDLE_SWEEP_MS
   * (default 15 s; tests shorten it).
   */
  readonly onDemand: {
    readonly idleStopS: number;
    readonly deployWaitMs: number;
    readonly sweepMs: number;
  };
  /** OpenAI's organization (SAILFIN_OPENAI_ORGANIZATION, default `sailfin`): jobs' `org-…` id and the third part of `ft:` model names. */
  readonly openAiOrganization: string;
  /** The webhook dispatcher's timings (SAILFIN_WEBHOOK_*; tests shorten them). */
  readonly webhooks: {
    readonly pollMs: number;
    readonly backoffMs: number;
    readonly timeoutMs: number;
    readonly maxAttempts: number;
  };
}

interface ConfigInput {
  readonly flags: Readonly<Record<string, string | undefined>>;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.problems = problems;
  }
}

/** apps/console/dist beside this package (apps/server/dist/config.js → apps/console/dist). */
const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL("../../console/dist", import.meta.url));

export function loadServerConfig({ flags, env }: ConfigInput): ServerConfig {
  const problems: string[] = [];
  const int = (name: string, text: string | undefined, fallback: number, min: number, max: number): number => {
    if (text === undefined || text === "") return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer in [${min}, ${max}], got "${text}"`);
      return fallback;
    }
    return value;
  };
  const accessKey = env.SAILFIN_ACCESS_KEY || undefined;
  const secretKey = env.SAILFIN_SECRET_KEY || undefined;
  if ((accessKey === undefined) !== (secretKey === undefined)) {
    problems.push("SAILFIN_ACCESS_KEY and SAILFIN_SECRET_KEY must be set together");
  }
  const databaseUrl = flags["database-url"] ?? (env.DATABASE_URL || undefined);
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push("DATABASE_URL must be a postgres:// or postgresql:// URL");
  }
  /** A setting's parser run, its error kept as one of the problems (reported together), the fallback standing in. */
  const parsed = <T>(parse: () => T, fallback: () => T): T => {
    try {
      return parse();
    } catch (error) {
      problems.push((error as Error).message);
      return fallback();
    }
  };
  const home = resolve(flags.home ?? (env.SAILFIN_HOME || ".sailfin"));
  const config: ServerConfig = {
    host: flags.host ?? env.SAILFIN_HOST ?? "127.0.0.1",
    port: int("--port / SAILFIN_PORT", flags.port ?? env.SAILFIN_PORT, 8866, 0, 65535),
    home,
    artifacts: parsed(() => parseArtifactsSetting(env), () => null),
    workDir: env.SAILFIN_WORK_DIR ? resolve(env.SAILFIN_WORK_DIR) : join(home, "work"),
    databaseUrl,
    masterKey: env.SAILFIN_MASTER_KEY || undefined,
    bootstrapAccessKey: accessKey,
    bootstrapSecretKey: secretKey,
    bodyLimit: int("SAILFIN_BODY_LIMIT", env.SAILFIN_BODY_LIMIT, 1024 * 1024, 1024, 64 * 1024 * 1024),
    uploadLimit: int("SAILFIN_UPLOAD_LIMIT", env.SAILFIN_UPLOAD_LIMIT, 20 * 1024 ** 3, 1024, Number.MAX_SAFE_INTEGER),
    logLevel: env.SAILFIN_LOG_LEVEL ?? "warn",
    eventsPollMs: int("SAILFIN_EVENTS_POLL_MS", env.SAILFIN_EVENTS_POLL_MS, 500, 10, 60_000),
    judge: parsed(() => judgeEndpointsFromEnv(env), () => NO_JUDGE_ENDPOINTS),
    pools: parsed(() => poolsFromEnv(env), () => LOCAL_POOLS),
    worker: parsed(() => workerSettingsFromEnv(env), () => workerSettingsFromEnv({})),
    trustProxy: parseTrustProxy(env.SAILFIN_TRUST_PROXY),
    sessionTtlS: int("SAILFIN_SESSION_TTL_S", env.SAILFIN_SESSION_TTL_S, 12 * 3600, 60, 30 * 24 * 3600),
    consoleDir: resolve(env.SAILFIN_CONSOLE_DIR || DEFAULT_CONSOLE_DIR),
    publicUrl: parsed(() => publicUrl(env.SAILFIN_PUBLIC_URL), () => undefined),
    onDemand: Object.freeze({
      idleStopS: int("SAILFIN_OPENAI_IDLE_STOP_SEC", env.SAILFIN_OPENAI_IDLE_STOP_SEC, 900, 0, 30 * 24 * 3600),
      deployWaitMs: 1000 * int("SAILFIN_OPENAI_DEPLOY_WAIT_SEC", env.SAILFIN_OPENAI_DEPLOY_WAIT_SEC, 120, 0, 3600),
      sweepMs: int("SAILFIN_OPENAI_IDLE_SWEEP_MS", env.SAILFIN_OPENAI_IDLE_SWEEP_MS, 15_000, 100, 3_600_000),
    }),
    openAiOrganization: parsed(() => openAiOrganization(env.SAILFIN_OPENAI_ORGANIZATION), () => "sailfin"),
    webhooks: Object.freeze({
      pollMs: int("SAILFIN_WEBHOOK_POLL_MS", env.SAILFIN_WEBHOOK_POLL_MS, 1_000, 10, 60_000),
      backoffMs: int("SAILFIN_WEBHOOK_BACKOFF_MS", env.SAILFIN_WEBHOOK_BACKOFF_MS, 10_000, 10, 3_600_000),
      timeoutMs: int("SAILFIN_WEBHOOK_TIMEOUT_MS", env.SAILFIN_WEBHOOK_TIMEOUT_MS, 5_000, 100, 60_000),
      maxAttempts: int("SAILFIN_WEBHOOK_MAX_ATTEMPTS", env.SAILFIN_WEBHOOK_MAX_ATTEMPTS, 8, 1, 50),
    }),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/** S3 bucket names (the rules every S3-compatible server accepts): 3-63 of [a-z0-9.-], starting and ending alphanumeric. */
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** SAILFIN_ARTIFACTS: unset or empty for the local folder, else `s3://bucket[/prefix]`; throws naming the variable. */
function parseArtifactsSetting(env: ConfigInput["env"]): S3ArtifactSettings | null {
  const text = env.SAILFIN_ARTIFACTS ?? "";
  if (text === "") return null;
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(text);
  const bucket = match?.[1] ?? "";
  const path = (match?.[2] ?? "").replace(/\/+$/, "");
  const segments = path === "" ? [] : path.split("/");
  // eslint-disable-next-line no-control-regex
  if (!S3_BUCKET.test(bucket) || segments.some((s) => s === "" || s === "." || s === ".." || /[\u0000-\u001f\\]/.test(s))) {
    throw new Error(`SAILFIN_ARTIFACTS must be s3://bucket or s3://bucket/prefix (a valid bucket name, a prefix without empty, "." or ".." segments), got "${text}"`);
  }
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint)) {
    throw new Error(`AWS_ENDPOINT_URL must be an http:// or https:// URL (SAILFIN_ARTIFACTS is s3://…), got "${endpoint}"`);
  }
  const accessKeyId = env.AWS_ACCESS_KEY_ID || undefined;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY || undefined;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new Error("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together (SAILFIN_ARTIFACTS is s3://…)");
  }
  return {
    bucket,
    prefix: path === "" ? "" : `${path}/`,
    endpoint,
    // A self-hosted server ignores the region, but the SDK signs with one.
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1",
    credentials: accessKeyId === undefined || secretAccessKey === undefined ? undefined : { accessKeyId, secretAccessKey },
  };
}

function parseTrustProxy(text: string | undefined): boolean | string {
  const value = text?.trim() ?? "";
  if (value === "" || value === "false") return false;
  return value === "true" ? true : value;
}

/** SAILFIN_PUBLIC_URL: an http(s) URL without query or fragment, its trailing slash dropped. */
function publicUrl(text: string | undefined): string | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new Error(`SAILFIN_PUBLIC_URL must be an http(s) URL, got "${text}"`);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.search !== "" || url.hash !== "") {
    throw new Error(`SAILFIN_PUBLIC_URL must be an http(s) URL without query or fragment, got "${text}"`);
  }
  return url.href.replace(/\/+$/, "");
}

/** SAILFIN_OPENAI_ORGANIZATION: 1–64 letters, digits, `_ - .` (it is a part of `ft:` names, split on `:`). */
function openAiOrganization(text: string | undefined): string {
  if (text === undefined || text.trim() === "") return "sailfin";
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(text.trim())) {
    throw new Error(`SAILFIN_OPENAI_ORGANIZATION must be 1-64 letters, digits, '_', '-' or '.', got "${text}"`);
  }
  return text.trim();
}
