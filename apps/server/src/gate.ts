import { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, RouteOptions } from "fastify";
import { SailfinError, policiesAllow, type Action } from "@sailfin/contract";
import {
  assertBodyDigest, splitKeyPairBearer, verifyAccessToken, verifyBearerToken, verifyKeyPairBearer, verifySignature, type Credential, type EngineResources,
  type SignedBodyDigest,
} from "@sailfin/engine";
import type { KeyPairLimiter } from "./failure-limiter.js";
import { newLogId, type DialectName } from "./render.js";
import type { RouteDef } from "./routes/route.js";
import { authenticateSession, sessionCookie } from "./session-auth.js";

/**
 * The one gate of every route: who is calling, and whether the caller's policies grant what the
 * route needs. Each route declares its access in its Fastify config (`config.access`): the IAM
 * action(s) it needs, or why it needs no credential. The gate is installed on the app before any
 * route, and a route registered without a declaration is refused at start-up, so no route, of
 * any kind (JSON API, upload, live events, extension), can forget it.
 */

/**
 * The envelope a route's errors render in: V1's, V2's, the legacy OAuth token endpoint's
 * `{error, error_description}` (routes/ext/oauth.ts), V2 chat's OpenAI `{error: {…}, id}`, or V1
 * chat's HTTP 200 `{error_code, error_msg}` (routes/chat/).
 */
export type ErrorDialect = DialectName | "oauth" | "openai" | "v1chat";

/** Who may call a route. */
export type RouteAccess =
  /** No credential is asked; `open` says why (the route checks its own, or has nothing to guard). */
  | { readonly open: string; readonly dialect: ErrorDialect }
  /**
   * A caller whose policies grant `iam` (an array: any one of them). `bearer`: an
   * `Authorization: Bearer` bearer token or API key is accepted too (the inference routes only:
   * a token must never manage keys, so a leaked one cannot mint a lasting one).
   */
  | { readonly dialect: ErrorDialect; readonly iam: Action | readonly Action[]; readonly bearer?: boolean }
  /**
   * The JSON routes: the declaration the request names (a V2 path serves every action of its
   * resource, picked by `?Action=`), whose `iam` the caller's policies must grant. Throws
   * InvalidAction, before authentication, when the request names none.
   */
  | { readonly dialect: DialectName; readonly route: (request: FastifyRequest) => RouteDef };

interface RequestState {
  readonly requestId: string;
  /** V1's `log_id`; V2 answers carry none, so other routes leave it empty (drawing one costs a random number). */
  readonly logId: string;
  readonly dialect: ErrorDialect;
  /** The JSON route's declaration, once the gate has found it. */
  def?: RouteDef;
  caller?: Credential;
  /** The body the caller's signature vouches for; checked before any handler reads the body. */
  bodyDigest?: SignedBodyDigest;
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the gate on every routed request; null only where no route matched. */
    sailfin: RequestState | null;
    /** The body's bytes as received, kept by the JSON parser for the signed-digest check. */
    rawBody: Buffer | null;
  }
  interface FastifyContextConfig {
    /** Who may call the route; required of every route (installGate). */
    access?: RouteAccess;
  }
}

/**
 * Installs the gate on `app`: every route registered after it (child scopes included) gets the
 * gate as its first `onRequest` hook, and the signed body digest is checked before any handler.
 * The gate runs at `onRequest`, before the body is read, so an unauthenticated caller's body is
 * never parsed.
 */
export function installGate(app: FastifyInstance, res: EngineResources, options: GateOptions = {}): void {
  app.decorateRequest("sailfin", null);
  app.decorateRequest("rawBody", null);

  app.addHook("onRoute", (route: RouteOptions) => {
    const access = route.config?.access;
    if (access === undefined) {
      throw new Error(`${String(route.method)} ${route.url} declares no config.access: every route says who may call it (apps/server/src/gate.ts)`);
    }
    const own = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    route.onRequest = [gateFor(res, access, options), ...own];
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
}

interface GateOptions {
  /** Guesses at a secret key through `Bearer AK:SK`, counted with sign-in's and OAuth's (app.ts); none: not throttled (unit tests). */
  readonly limiter?: KeyPairLimiter;
}

function gateFor(res: EngineResources, access: RouteAccess, options: GateOptions): onRequestHookHandler {
  const stateOf = (request: FastifyRequest): RequestState =>
    (request.sailfin = { requestId: request.id, logId: access.dialect === "v1" ? newLogId() : "", dialect: access.dialect });
  // Open routes only set the state their errors render with; synchronous, as no credential is read.
  if ("open" in access) {
    return (request, _reply, done) => {
      stateOf(request);
      done();
    };
  }
  return async (request, reply) => {
    const state = stateOf(request);
    let needs: Action | readonly Action[];
    if ("route" in access) {
      state.def = access.route(request);
      needs = state.def.iam;
    } else needs = access.iam;
    const caller = await authenticate(res, request, reply, "bearer" in access && access.bearer === true, options);
    state.caller = caller;
    assertGranted(caller, needs);
  };
}

/**
 * Refuses (AccessDenied) a caller whose policies grant none of `needs`; for a check that depends
 * on what the request names (the live events of a run: the run's kind decides).
 */
export function assertGranted(caller: Credential, needs: Action | readonly Action[]): void {
  if (typeof needs === "string") {
    if (!policiesAllow(caller.policies, needs)) throw new SailfinError("AccessDenied", { detail: `the key's policies do not grant ${needs}` });
  } else if (!needs.some((action) => policiesAllow(caller.policies, action))) {
    throw new SailfinError("AccessDenied", { detail: `the key's policies grant none of ${needs.join(", ")}` });
  }
}

/**
 * Who is calling. On a route that takes them, `Authorization: Bearer <token>` is a bearer token
 * or API key, or an access key pair `AK:SK` (OpenAI's SDKs send one opaque key; guesses at the
 * secret are throttled like sign-in's). Any other Authorization header is verified as bce-auth-v1; without one,
 * a bearer `?access_token=` (legacy, reference §3.5), else the console's session cookie (with its
 * CSRF checks on mutating methods); with none of them, the signature check reports the missing
 * header.
 */
async function authenticate(
  res: EngineResources, request: FastifyRequest, reply: FastifyReply, bearer: boolean, options: GateOptions,
): Promise<Credential> {
  const authorization = request.headers.authorization;
  if (bearer && authorization !== undefined && /^bearer /i.test(authorization)) {
    const token = authorization.slice(7).trim();
    const pair = splitKeyPairBearer(token);
    if (pair === null) return verifyBearerToken(res, token);
    const attempt = options.limiter?.reserve(request.ip, pair.accessKey);
    if (attempt !== undefined && attempt.retryAfterS > 0) {
      reply.header("retry-after", String(attempt.retryAfterS));
      throw new SailfinError("TooManyRequests", { detail: `retry in ${attempt.retryAfterS} s` });
    }
    const credential = await verifyKeyPairBearer(res, pair);
    attempt?.succeeded();
    return credential;
  }
  if (authorization === undefined) {
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
  // The gate set the state before authenticating, so the digest is checked (preHandler above).
  if (verified.bodyDigest !== null) request.sailfin!.bodyDigest = verified.bodyDigest;
  return verified.credential;
}
