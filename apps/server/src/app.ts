import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from "fastify";
import { SailfinError, assertSafeText, isSailfinError, policiesAllow } from "@sailfin/contract";
import {
  DEFAULT_SESSION_TTL_S, assertBodyDigest, checkDatabase, verifyAccessToken, verifySignature, type Credential, type EngineResources, type SignedBodyDigest,
} from "@sailfin/engine";
import { NO_RESULT, newLogId, sendError, sendV1, sendV2, type DialectName } from "./render.js";
import { ROUTES } from "./routes/index.js";
import type { RouteDef, V1Route, V2Action } from "./routes/route.js";
import { registerOAuth } from "./routes/ext/oauth.js";
import { registerUploads } from "./routes/ext/uploads.js";
import { registerEvalExportDownloads } from "./routes/ext/eval-exports.js";
import { registerEventStream } from "./routes/ext/events-stream.js";
import { registerSessionRoutes } from "./routes/ext/session.js";
import { registerConsole } from "./routes/ext/console-static.js";
import { authenticateSession, sessionCookie } from "./session-auth.js";
import { KeyPairLimiter } from "./failure-limiter.js";

/** A JSON escape that may decode to NUL or a surrogate (`\u0000`, `\uD800`–`\uDFFF`). */
const JSON_UNSAFE_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/;

export interface AppOptions {
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
}

export interface RequestState {
  readonly requestId: string;
  /** V1's `log_id`; V2 answers carry none, so V2 routes leave it empty (drawing one costs a random number). */
  readonly logId: string;
  readonly dialect: DialectName;
  def?: RouteDef;
  caller?: Credential;
  /** The body the caller's signature vouches for; checked before any handler reads the body. */
  bodyDigest?: SignedBodyDigest;
}

declare module "fastify" {
  interface FastifyRequest {
    sailfin: RequestState | null;
    /** The body's bytes as received, kept by the JSON parser for the signed-digest check. */
    rawBody: Buffer | null;
  }
}

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
  app.decorateRequest("sailfin", null);
  app.decorateRequest("rawBody", null);
  // Path parameters and query strings of every route (JSON, extension, not found) hold only text a
  // store and a header can carry; bodies are checked as they are parsed. After the gates, so
  // errors render in the route's own envelope.
  // Only a percent-escape can put NUL or a surrogate into a path or query (the HTTP parser refuses
  // raw control bytes and reads other raw bytes as Latin-1), so a URL without `%` is not walked.
  // Synchronous (`done`), like the digest check below.
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

  // A signed body digest is checked before any handler acts on the body; a streamed body (uploads)
  // is checked by its route as it streams. A body never read (GET) counts as empty.
  // Synchronous (`done`): an async hook costs every request a promise and a microtask hop.
  app.addHook("preHandler", (request, _reply, done) => {
    const digest = request.sailfin?.bodyDigest;
    try {
      if (digest !== undefined && !(request.body instanceof Readable)) assertBodyDigest(digest, request.rawBody ?? Buffer.alloc(0));
    } catch (error) {
      return done(error as Error);
    }
    done();
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

  const gate = (dialect: DialectName, v2Resource?: string) => async (request: FastifyRequest) => {
    const state: RequestState = { requestId: request.id, logId: dialect === "v1" ? newLogId() : "", dialect };
    request.sailfin = state;
    if (dialect === "v2") {
      const resource = v2Resource ?? (request.params as { resource: string }).resource;
      const action = (request.query as Record<string, unknown>).Action;
      const def = typeof action === "string" ? v2Actions.get(`${resource}:${action}`) : undefined;
      if (def === undefined) {
        throw new SailfinError("InvalidAction", {
          detail: typeof action === "string" && action !== ""
            ? `the action ${action} is not supported by /v2/${resource}`
            : "the Action query parameter is required",
        });
      }
      state.def = def;
    } else {
      state.def = v1Routes.get(request.routeOptions.url ?? "");
    }
    const caller = await authenticate(res, request);
    state.caller = caller;
    if (!policiesAllow(caller.policies, state.def!.iam)) {
      throw new SailfinError("AccessDenied", { detail: `the key's policies do not grant ${state.def!.iam}` });
    }
  };

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const state = request.sailfin!;
    const def = state.def!;
    const result = await def.handler(
      { res, caller: state.caller!, baseUrl: `${request.protocol}://${request.headers.host ?? "localhost"}` },
      request.body ?? {},
    );
    if (state.dialect === "v2") return sendV2(reply, state.requestId, result);
    return sendV1(reply, state.logId, result === NO_RESULT ? true : result, (def as V1Route).datasetFamily === true);
  };

  // A static route per known V2 resource (find-my-way matches a static path faster); the
  // parametric route answers the others with InvalidAction.
  for (const resource of new Set([...v2Actions.values()].map((def) => def.resource))) {
    app.post(`/v2/${resource}`, { onRequest: gate("v2", resource) }, handle);
  }
  app.post("/v2/:resource", { onRequest: gate("v2") }, handle);
  for (const path of v1Routes.keys()) app.post(path, { onRequest: gate("v1") }, handle);

  app.get("/healthz", async () => {
    await checkDatabase(res.db);
    return { status: "ok" };
  });
  // One budget for guessing a key's secret, whichever door the guesses come through.
  const keyPairLimiter = new KeyPairLimiter();
  registerOAuth(app, res, { limiter: keyPairLimiter });
  await registerUploads(app, res, { uploadLimit: options.uploadLimit, authenticate: (r) => authenticate(res, r) });
  // Unsigned by design: the link's own signature is the credential.
  registerEvalExportDownloads(app, res);
  registerEventStream(app, res, { authenticate: (r) => authenticate(res, r), pollMs: options.eventsPollMs ?? 500 });
  registerSessionRoutes(app, res, { ttlS: options.sessionTtlS ?? DEFAULT_SESSION_TTL_S, limiter: keyPairLimiter });
  if (options.consoleDir !== undefined) registerConsole(app, { dir: options.consoleDir });
  return app;
}

/**
 * Who is calling, for every authenticated route (the JSON gate, uploads, live events). A request
 * with an Authorization header is verified as bce-auth-v1; without one, a bearer `?access_token=`
 * (legacy, reference §3.5), else the console's session cookie (with its CSRF checks on mutating
 * methods); with none of them, the signature check reports the missing header.
 */
export async function authenticate(res: EngineResources, request: FastifyRequest): Promise<Credential> {
  if (request.headers.authorization === undefined) {
    const token = (request.query as Record<string, unknown>).access_token;
    if (typeof token === "string" && token !== "") return verifyAccessToken(res, token);
    const cookie = sessionCookie(request);
    if (cookie !== undefined) return (await authenticateSession(res, request, cookie)).credential;
  }
  // Fastify's `request.host` is X-Forwarded-Host only when SAILFIN_TRUST_PROXY trusts the sender.
  const forwardedHost = request.host !== (request.headers.host ?? "") ? request.host : undefined;
  const verified = await verifySignature(res, {
    method: request.method, url: request.raw.url ?? request.url, headers: request.headers,
    ...(forwardedHost === undefined ? {} : { forwardedHost }),
  });
  if (verified.bodyDigest !== null) {
    // Every route's gate sets its state before authenticating; without it the digest would go unchecked.
    if (request.sailfin === null) throw new Error("authenticate() called before the route's request state was set");
    request.sailfin.bodyDigest = verified.bodyDigest;
  }
  return verified.credential;
}

function dialectOf(request: FastifyRequest): DialectName {
  return request.sailfin?.dialect ?? (request.url.startsWith("/wenxinworkshop") ? "v1" : "v2");
}

function renderError(request: FastifyRequest, reply: FastifyReply, error: SailfinError): FastifyReply {
  const state = request.sailfin;
  const def = state?.def;
  const datasetFamily = def?.dialect === "v1" && def.datasetFamily === true;
  if (error.spec.system) request.log.error({ err: error.cause ?? error }, "request failed");
  else request.log.info({ code: error.id, detail: error.message }, "request refused");
  if (request.url.startsWith("/oauth/")) {
    // The legacy token route's own shape (routes/ext/oauth.ts): HTTP 200 unless the fault is ours.
    return reply.code(error.spec.system ? error.spec.http : 200)
      .send({ error: error.spec.system ? "server_error" : "invalid_request", error_description: error.v2Message });
  }
  return sendError(reply, dialectOf(request), error, { requestId: request.id, logId: state?.logId ?? newLogId() }, datasetFamily);
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
