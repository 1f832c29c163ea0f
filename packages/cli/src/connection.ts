import { SailfinApiError, SailfinClient, SailfinNetworkError } from "@sailfin/sdk";
import { CliError } from "./errors.js";
import { describeSource, type Settings } from "./settings.js";

/**
 * The CLI's one client is the typed SDK's (`@sailfin/sdk`), built here from the resolved
 * settings. Its failures are phrased for people by `explainFailure` where the command line
 * prints them: a rejected key pair or an unreachable server names the setting to fix; other
 * server errors stay SailfinApiError (code, message and request id, printed as they are).
 */

/** Items per page of the list commands (they print every item, page after page). */
export const PAGE_SIZE = 100;

export function connect(settings: Settings): SailfinClient {
  // People's commands ride out a restarting server or a brief overload (the SDK's policy never
  // repeats a create the server may have processed).
  return new SailfinClient({ baseUrl: settings.baseUrl, accessKey: settings.accessKey, secretKey: settings.secretKey, retries: 3 });
}

/** The server refused the key pair (the message names the setting to fix). */
export class RejectedCredentials extends CliError {
  constructor(message: string, readonly code: string) { super(message); }
}

/** No HTTP answer at all (the message names the setting to fix). */
export class ServerUnreachable extends CliError {
  constructor(message: string, readonly baseUrl: string, readonly reason: string) { super(message); }
}

/** Qianfan's authentication failures: the key pair (or the clock) is wrong, not the request. */
const AUTH_CODES = new Set(["SignatureDoesNotMatch", "InvalidAccessKeyId", "IncompleteSignature", "AuthFailure", "InvalidAuthorization"]);

/** The one-line, fix-naming form of connection and credential errors; any other error as it is. */
export function explainFailure(error: unknown, settings: Settings): unknown {
  if (error instanceof SailfinNetworkError) {
    const where = settings.sources.baseUrl.kind === "env" || settings.sources.baseUrl.kind === "default"
      ? "set QIANFAN_CONSOLE_API_BASE_URL"
      : `the URL comes from ${describeSource(settings.sources.baseUrl, "QIANFAN_CONSOLE_API_BASE_URL", "--base-url")}`;
    const reason = reasonText(systemReason(error));
    return new ServerUnreachable(`cannot reach the Sailfin server at ${settings.baseUrl}: ${reason}; is \`sailfin serve\` running? (${where})`, settings.baseUrl, reason);
  }
  if (error instanceof SailfinApiError && AUTH_CODES.has(error.code)) {
    const key = error.code === "InvalidAccessKeyId" ? settings.sources.accessKey : settings.sources.secretKey;
    const envName = error.code === "InvalidAccessKeyId" ? "QIANFAN_ACCESS_KEY" : "QIANFAN_SECRET_KEY";
    const fix = key.kind === "profile" ? `check profile "${key.name}" or run \`sailfin login --profile ${key.name}\`` : `check ${envName} or run \`sailfin login\``;
    return new RejectedCredentials(`the server rejected the access key/secret key (${error.code}): ${fix}`, error.code);
  }
  if (error instanceof SailfinApiError && error.code === "RequestExpired") {
    return new CliError("the server refused the request as expired (RequestExpired): check this machine's clock");
  }
  return error;
}

/** The system error code (`ECONNREFUSED`, `ENOTFOUND`, …) under fetch's error, or its message. */
function systemReason(error: SailfinNetworkError): string {
  const fetchError = error.cause as { cause?: { code?: string; message?: string }; message?: string } | undefined;
  return fetchError?.cause?.code ?? fetchError?.cause?.message ?? fetchError?.message ?? error.message;
}

function reasonText(reason: string): string {
  switch (reason) {
    case "ECONNREFUSED": return "connection refused";
    case "ENOTFOUND":
    case "EAI_AGAIN": return "unknown host";
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT": return "connection timed out";
    case "ECONNRESET":
    case "UND_ERR_SOCKET": return "connection reset";
    case "EHOSTUNREACH":
    case "ENETUNREACH": return "host unreachable";
    // fetch refuses the ports browsers block (9, 25, 6000, …) without trying them.
    case "bad port": return "fetch refuses to connect to that port (a blocked port)";
    default: return reason;
  }
}
