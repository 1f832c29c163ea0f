import { createServer } from "node:net";
import { hostname } from "node:os";

/**
 * A port free on `host` right now (the OS picks it, the socket is closed again). The engine binds
 * it a moment later: another process could take it in between, which shows as an engine that
 * fails to start and is retried on a fresh port (serve.ts). Picking here rather than asking the
 * engine for port 0 gives every engine, vLLM's included, the same launch.
 *
 * @example const port = await freePort("127.0.0.1");
 */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The URL an engine bound to `host:port` is reached at (a wildcard bind is reached at this machine's name). */
export function engineUrl(host: string, port: number): string {
  const reach = host === "0.0.0.0" || host === "::" || host === "" ? hostname() : host;
  return `http://${reach.includes(":") ? `[${reach}]` : reach}:${port}`;
}
