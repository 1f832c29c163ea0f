import { randomUUID } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from "fastify";
import { SailfinError, assertSafeText, isSailfinError } from "@sailfin/contract";
import {
  DEFAULT_SESSION_TTL_S, checkDatabase, findServingTarget, listFineTunedModels, resolveFineTunedModel, type EngineResources, type FindChatTarget,
  type FineTunedModels, type OnDemandPolicy,
} from "@sailfin/engine";
import { NO_RESULT, newLogId, sendError, sendOpenAiError, sendV1, sendV1ChatError, sendV2 } from "./render.js";
import { ROUTES } from "./routes/index.js";
import type { RouteDef, V1Route, V2Action } from "./routes/route.js";
import { installGate, type ErrorDialect, type RouteAccess } from "./gate.js";
import { registerOAuth } from "./routes/ext/oauth.js";
import { registerBearerToken } from "./routes/ext/bearer-token.js";
import { registerV2Chat } from "./routes/v2/chat.js";
import { registerV1Chat } from "./routes/v1/chat.js";
import { registerOpenAiChat } from "./routes/openai/chat.js";
import { registerOpenAiModels } from "./routes/openai/models.js";
import { registerOpenAiJobs } from "./routes/openai/jobs.js";
import { registerOpenAiFiles } from "./routes/openai/files.js";
import { registerUploads } from "./routes/ext/uploads.js";
import { registerExportDownloads } from "./routes/ext/export-downloads.js";
import { registerEventStream } from "./routes/ext/events-stream.js";
import { registerSessionRoutes } from "./routes/ext/session.js";
import { registerConsole } from "./routes/ext/console-static.js";
import { KeyPairLimiter } from "./failure-limiter.js";

/** A JSON escape that may decode to NUL or a surrogate (`\u0000`, `\uD800`–`\uDFFF`). */
const JSON_UNSAFE_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/;

interface AppOptions {
  /** Largest JSON body accepted (bytes). */
  readonly bodyLimit: number;
  /** Largest streamed upload accepted (bytes). */
  readonly uploadLimit: number;
  /** A pino logger instance (shared with the engine). */
  readonly logger: FastifyServerOptions["loggerInstance"];
  readonly routes?: readonly RouteDef[];
  /** How often a live event stream polls for new rows (default 500 ms). */
  readonly eventsPollMs?: number;
  /** Fastify's `trustProxy` (SAILFIN_TRUST_PROXY): whose X-Forwarded-For names the client. */
  readonly trustProxy?: boolean | string;
  /** Console session lifetime in seconds (default 12 h). */
  readonly sessionTtlS?: number;
  /** The built console served under /console/; undefined: not served. */
  readonly consoleDir?: string;
  /** What serves a chat call's `model`; default: the deployed services (engine `findServingTarget`). Tests name their own. */
  readonly findServingTarget?: FindChatTarget;
  /** SAILFIN_PUBLIC_URL: the base of links handed out (service urls); undefined: the request's origin. */
  readonly publicUrl?: string | undefined;
  /** On-demand serving of OpenAI's chat (config.ts `onDemand`); default: 15 min idle stop, 2 min deploy wait. */
  readonly onDemand?: OnDemandPolicy;
  /** Where `ft:` model names come from; default: the OpenAI fine-tuning jobs. Tests name their own. */
  readonly fineTunedModels?: FineTunedModels;
  /** SAILFIN_OPENAI_ORGANIZATION (default `sailfin`): OpenAI jobs' organization. */
  readonly openAiOrganization?: string;
}

/** `ft:` names are the OpenAI fine-tuning jobs' models. */
const JOB_MODELS: FineTunedModels = { resolve: resolveFineTunedModel, list: listFineTunedModels };

/**
 * Builds the whole HTTP application; `main` is the only place that listens, and tests build the
 * very same app.
 */
export async function buildApp(res: EngineResources, options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger, bodyLimit: options.bodyLimit, genReqId: () => randomUUID(), trustProxy: options.trustProxy ?? false,
    // A path that is not percent-encoded UTF-8, or a segment past the router's limit: refused in
    // the envelope of the family the path names, like any other refusal.
    frameworkErrors: (error, request, reply) => renderError(request, reply, toSailfinError(error, request)),
  });
  // One budget for guessing a key's secret, whichever door the guesses come through (sign-in,
  // OAuth, `Bearer AK:SK`).
  const keyPairLimiter = new KeyPairLimiter();
  // Before any route: every route registered below goes through the gate.
  installGate(app, res, { limiter: keyPairLimiter });
  // Path parameters and query strings of every route (JSON, extension, not found) hold only text a
  // store and a header can carry; bodies are checked as they are parsed. After the gates, so
  // errors render in the route's own envelope.
  // Only a percent-escape can put NUL or a surrogate into a path or query (the HTTP parser refuses
  // raw control bytes and reads other raw bytes as Latin-1), so a URL without `%` is not walked.
  // Synchronous (`done`), like the gate's digest check.
  app.addHook("preParsing", (request, _reply, payload, done) => {
    if (!(request.raw.url ?? "").includes("%")) return done(null, payload);
    try {
      // A wildcard's value is named as the docs name it (uploads: `objectPath`), not Fastify's `*`.
      const { "*": rest, ...named } = request.params as Record<string, unknown>;
      const wildcard = request.routeOptions.url?.startsWith("/sailfin/v1/objects/") ? "objectPath" : "path";
      assertSafeText(rest === undefined ? named : { ...named, [wildcard]: rest });
      assertSafeText(request.query);
    } catch (error) {
      return done(error as Error);
    }
    done(null, payload);
  });

  // Every SDK sends JSON, with or without a charset, and the Node SDK sends no body at all when
  // there is no data: parse whatever arrives as JSON, an empty body as `{}`.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (request, body, done) => {
    request.rawBody = body as Buffer;
    const text = (body as Buffer).toString("utf8");
    if (text.trim() === "") return done(null, {});
    let parsed: unknown;
    // In JSON text NUL and surrogates can only be `\u` escapes (raw control characters are not
    // JSON, and UTF-8 decoding never yields a surrogate), so a body without one is not walked.
    let mayHoldUnsafeText = true;
    if (/^application\/x-www-form-urlencoded/i.test(request.headers["content-type"] ?? "")) {
      parsed = Object.fromEntries(new URLSearchParams(text));
    } else {
      try {
        parsed = JSON.parse(text);
      } catch {
        return done(new SailfinError("MalformedJSON", { detail: "the request body is not valid JSON" }), undefined);
      }
      mayHoldUnsafeText = JSON_UNSAFE_ESCAPE.test(text);
    }
    try {
      if (mayHoldUnsafeText) assertSafeText(parsed);
    } catch (error) {
      return done(error as SailfinError, undefined);
    }
    done(null, parsed);
  });

  app.setErrorHandler((error, request, reply) => renderError(request, reply, toSailfinError(error, request)));
  app.setNotFoundHandler((request, reply) =>
    // V1 clients compare error_msg with the platform's exact text, so only V2 gets the detail.
    renderError(request, reply, dialectOf(request) === "v1"
      ? new SailfinError("InvalidAction")
      : new SailfinError("InvalidAction", { detail: `no route for ${request.method} ${request.url.split("?")[0]}` })),
  );

  const routes = options.routes ?? ROUTES;
  const v2Actions = new Map<string, V2Action>();
  const v1Routes = new Map<string, V1Route>();
  for (const def of routes) {
    if (def.dialect === "v2") v2Actions.set(`${def.resource}:${def.action}`, def);
    else v1Routes.set(def.path, def);
  }

  // The JSON routes' access: the declaration the request names, whose IAM action the gate checks.
  const v2Access = (fixedResource?: string): RouteAccess => ({
    dialect: "v2",
    route: (request) => {
      const resource = fixedResource ?? (request.params as { resource: string }).resource;
      const action = (request.query as Record<string, unknown>).Action;
      const def = typeof action === "string" ? v2Actions.get(`${resource}:${action}`) : undefined;
      if (def !== undefined) return def;
      throw new SailfinError("InvalidAction", {
        detail: typeof action === "string" && action !== ""
          ? `the action ${action} is not supported by /v2/${resource}`
          : "the Action query parameter is required",
      });
    },
  });

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const state = request.sailfin!;
    const def = state.def!;
    const result = await def.handler(
      { res, caller: state.caller!, baseUrl: options.publicUrl ?? `${request.protocol}://${request.headers.host ?? "localhost"}` },
      request.body ?? {},
    );
    if (state.dialect === "v2") return sendV2(reply, state.requestId, result);
    return sendV1(reply, state.logId, result === NO_RESULT ? true : result, (def as V1Route).datasetFamily === true);
  };

  // A static route per known V2 resource (find-my-way matches a static path faster); the
  // parametric route answers the others with InvalidAction.
  for (const resource of new Set([...v2Actions.values()].map((def) => def.resource))) {
    app.post(`/v2/${resource}`, { config: { access: v2Access(resource) } }, handle);
  }
  app.post("/v2/:resource", { config: { access: v2Access() } }, handle);
  for (const [path, def] of v1Routes) app.post(path, { config: { access: { dialect: "v1", route: () => def } } }, handle);

  app.get("/healthz", { config: { access: { open: "a load balancer's probe; it reveals nothing", dialect: "v2" } } }, async () => {
    await checkDatabase(res.db);
    return { status: "ok" };
  });
  registerOAuth(app, res, { limiter: keyPairLimiter });
  registerBearerToken(app, res);
  registerV2Chat(app, res, options.findServingTarget ?? findServingTarget);
  registerV1Chat(app, res, options.findServingTarget ?? findServingTarget);
  const fineTuned = options.fineTunedModels ?? JOB_MODELS;
  registerOpenAiChat(app, res, { fineTuned, findService: options.findServingTarget ?? findServingTarget, policy: options.onDemand ?? { idleStopS: 900, deployWaitMs: 120_000 } });
  registerOpenAiModels(app, res, { fineTuned, organization: options.openAiOrganization ?? "sailfin" });
  registerOpenAiJobs(app, res, { organization: options.openAiOrganization ?? "sailfin" });
  await registerOpenAiFiles(app, res, { uploadLimit: options.uploadLimit });
  await registerUploads(app, res, { uploadLimit: options.uploadLimit });
  registerExportDownloads(app, res);
  registerEventStream(app, res, { pollMs: options.eventsPollMs ?? 500 });
  registerSessionRoutes(app, res, { ttlS: options.sessionTtlS ?? DEFAULT_SESSION_TTL_S, limiter: keyPairLimiter });
  if (options.consoleDir !== undefined) registerConsole(app, { dir: options.consoleDir });
  return app;
}

/**
 * The envelope of a request's errors: its route's (the gate sets it first thing); where no route
 * took the request (an unknown path, a URL the router could not read), the family its path names.
 */
const OPENAI_PATH = /^\/v1\/(files|fine_tuning|models|chat)(\/|\?|$)/;

function dialectOf(request: FastifyRequest): ErrorDialect {
  // Optional: the request Fastify makes for a URL its router could not read has no decorations.
  const routed = request.sailfin?.dialect;
  if (routed !== undefined) return routed;
  if (request.url.startsWith("/wenxinworkshop")) return "v1";
  if (request.url.startsWith("/rpc/")) return "v1chat";
  // OpenAI's dialect (routes/openai/): the families its SDKs call under `<server>/v1`.
  if (OPENAI_PATH.test(request.url)) return "openai";
  return request.url.startsWith("/oauth/") ? "oauth" : "v2";
}

function renderError(request: FastifyRequest, reply: FastifyReply, error: SailfinError): FastifyReply {
  const state = request.sailfin;
  const def = state?.def;
  const datasetFamily = def?.dialect === "v1" && def.datasetFamily === true;
  if (error.spec.system) request.log.error({ err: error.cause ?? error }, "request failed");
  else request.log.info({ code: error.id, detail: error.message }, "request refused");
  const dialect = dialectOf(request);
  if (dialect === "oauth") {
    // The legacy token route's own shape (routes/ext/oauth.ts): HTTP 200 unless the fault is ours.
    return reply.code(error.spec.system ? error.spec.http : 200)
      .send({ error: error.spec.system ? "server_error" : "invalid_request", error_description: error.v2Message });
  }
  if (dialect === "openai") return sendOpenAiError(reply, error, request.id);
  if (dialect === "v1chat") return sendV1ChatError(reply, error, request.id);
  return sendError(reply, dialect, error, { requestId: request.id, logId: state?.logId ?? newLogId() }, datasetFamily);
}

function toSailfinError(error: unknown, request: FastifyRequest): SailfinError {
  if (isSailfinError(error)) return error;
  const code = (error as { code?: string }).code;
  switch (code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new SailfinError("EntityTooLarge", { detail: "the request body is larger than the server accepts" });
    case "FST_ERR_BAD_URL":
      return new SailfinError("InvalidURI", { detail: "the path is not percent-encoded UTF-8" });
    case "FST_ERR_MAX_PARAM_LENGTH":
      return new SailfinError("URITooLong", { detail: "a path segment is longer than the server accepts" });
    default:
      // Fastify's other refusals of a body (content length, media type, empty JSON …).
      if (code?.startsWith("FST_ERR_CTP_")) return new SailfinError("MalformedJSON", { detail: (error as Error).message });
      request.log.error({ err: error }, "unexpected error");
      return new SailfinError("InternalError", { cause: error });
  }
}
