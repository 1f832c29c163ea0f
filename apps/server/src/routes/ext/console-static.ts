import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { extname, resolve, sep } from "node:path";
import type { FastifyInstance, FastifyReply } from "fastify";

/**
 * The built web console (apps/console/dist, or SAILFIN_CONSOLE_DIR) under /console/:
 *
 *   GET /console/assets/<name>-<hash>.js   cached for a year (the name changes with the content)
 *   GET /console/<file>                    the file, revalidated on every use
 *   GET /console/<anything else>           index.html, so a deep link (a V2 task's
 *                                          `vdlLink`, /console/tasks/<taskId>) opens the app
 *
 * No authentication: the files are the same for everyone, and the API they call checks the
 * session. Every answer carries a CSP that allows only this origin's scripts and styles (Vite
 * emits no inline ones). The folder is looked up per request, so building the console while the
 * server runs needs no restart; without it every path answers 404 with how to build it.
 * A dozen lines of our own instead of @fastify/static: the console is a handful of files.
 */
interface ConsoleStaticOptions {
  readonly dir: string;
}

const NOT_BUILT = "the console is not built: run npm run build\n";
const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
  "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
].join("; ");
const IMMUTABLE = "public, max-age=31536000, immutable";
const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8", ".json": "application/json", ".map": "application/json", ".svg": "image/svg+xml",
  ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
  ".ico": "image/x-icon", ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf", ".txt": "text/plain; charset=utf-8",
  ".webmanifest": "application/manifest+json", ".wasm": "application/wasm",
};

export function registerConsole(app: FastifyInstance, options: ConsoleStaticOptions): void {
  const root = resolve(options.dir);

  const send = async (reply: FastifyReply, path: string, cacheControl: string) => {
    const info = await stat(path);
    const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    reply.header("cache-control", cacheControl).header("etag", etag);
    if (reply.request.headers["if-none-match"] === etag) return reply.code(304).send();
    reply.header("content-type", TYPES[extname(path).toLowerCase()] ?? "application/octet-stream");
    reply.header("content-length", String(info.size));
    return reply.send(createReadStream(path));
  };

  const open = { config: { access: { open: "the console's static files", dialect: "v2" } } } as const;
  app.get("/console", open, async (request, reply) => {
    const query = request.url.indexOf("?");
    return reply.redirect(`/console/${query < 0 ? "" : request.url.slice(query)}`, 301);
  });

  app.get("/console/*", open, async (request, reply) => {
    reply.header("content-security-policy", CSP)
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "same-origin")
      .header("x-frame-options", "DENY");
    const index = resolve(root, "index.html");
    if (!(await isFile(index))) return reply.code(404).type("text/plain; charset=utf-8").send(NOT_BUILT);

    const wanted = (request.params as { "*": string })["*"];
    const target = resolve(root, `./${wanted}`);
    if (wanted === "") return send(reply, index, "no-cache");
    if (!target.startsWith(root + sep) || wanted.includes("\0")) {
      return reply.code(404).type("text/plain; charset=utf-8").send("no such file\n");
    }
    if (await isFile(target)) {
      return send(reply, target, wanted.startsWith("assets/") ? IMMUTABLE : "no-cache");
    }
    // A missing file is an error, not a page of the app: a stale index.html naming an old bundle
    // should fail loudly rather than load HTML as a script.
    if (wanted.startsWith("assets/") || extname(wanted).toLowerCase() in TYPES) {
      return reply.code(404).type("text/plain; charset=utf-8").send(`no such file: /console/${wanted}\n`);
    }
    return send(reply, index, "no-cache");
  });
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
