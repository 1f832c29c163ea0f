import pino from "pino";

/**
 * The process's logger (pino, shared by Fastify and the engine), made safe for secrets at every
 * level: request lines carry the URL with its credential-bearing query values replaced, and
 * headers or bodies that hold credentials are censored wherever a log call passes them.
 */

/** Query parameters whose values are credentials: OAuth's, the bearer token, signed links, a query-string signature. */
const SECRET_QUERY_PARAMS = new Set(["access_token", "client_secret", "signature", "authorization"]);

const REDACTED = "[redacted]";

/** Headers and fields that hold credentials, at the places log calls put them. */
const REDACT_PATHS = [
  "req.headers.authorization", "req.headers.cookie", 'req.headers["x-sailfin-csrf"]', 'req.headers["x-bce-security-token"]',
  "headers.authorization", "headers.cookie", 'headers["x-sailfin-csrf"]', 'headers["x-bce-security-token"]',
  "res.headers['set-cookie']", "body.secretKey", "body.client_secret", "secretKey", "client_secret", "access_token",
];

/**
 * A URL with the values of secret query parameters replaced (names compared case-insensitively).
 *
 * @example
 * redactUrl("/oauth/2.0/token?client_id=AK&client_secret=SK") // "/oauth/2.0/token?client_id=AK&client_secret=[redacted]"
 */
function redactUrl(url: string): string {
  const start = url.indexOf("?");
  if (start < 0) return url;
  const query = url.slice(start + 1).split("&").map((part) => {
    const eq = part.indexOf("=");
    const name = eq < 0 ? part : part.slice(0, eq);
    let decoded = name;
    try {
      decoded = decodeURIComponent(name);
    } catch {
      // A malformed escape: compare the raw name.
    }
    return eq >= 0 && SECRET_QUERY_PARAMS.has(decoded.toLowerCase()) ? `${name}=${REDACTED}` : part;
  });
  return `${url.slice(0, start)}?${query.join("&")}`;
}

interface LoggedRequest {
  readonly method: string;
  readonly url: string;
  readonly host?: string;
  readonly ip?: string;
  readonly socket?: { readonly remotePort?: number };
}

/** SAILFIN_LOG_LEVEL's logger, to stdout unless a destination is given. */
export function createLogger(level: string, destination?: pino.DestinationStream): pino.Logger {
  return pino({
    level,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    serializers: {
      // Fastify's request line, with the URL's secrets removed.
      req: (req: LoggedRequest) => ({
        method: req.method, url: redactUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort,
      }),
    },
  }, destination);
}
