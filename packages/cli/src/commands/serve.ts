import { loadServerConfig, startServer } from "@sailfin/server";

export const SERVE_USAGE = "sailfin serve [--port 8866] [--host 127.0.0.1] [--home DIR] [--database-url URL] [--no-worker]";

/** Runs the server (with an embedded worker unless `--no-worker`) until SIGINT/SIGTERM, then closes it gracefully. */
export async function serve(flags: Record<string, string | boolean | undefined>): Promise<number> {
  const config = loadServerConfig({ flags: flags as Record<string, string | undefined>, env: process.env });
  // Listening before the server starts: a signal during start-up (the embedded worker probes the
  // Python interpreter) then closes the server cleanly instead of killing the process.
  const stopped = new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  const server = await startServer(config, console.log, { worker: flags["no-worker"] === undefined });
  await stopped;
  await server.close();
  return 0;
}
