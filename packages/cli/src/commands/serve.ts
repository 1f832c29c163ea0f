import { loadServerConfig, startServer } from "@sailfin/server";

export const SERVE_USAGE = "sailfin serve [--port 8866] [--host 127.0.0.1] [--home DIR] [--database-url URL]";

/** Runs the server until SIGINT/SIGTERM, then closes it gracefully. */
export async function serve(flags: Record<string, string | undefined>): Promise<number> {
  const config = loadServerConfig({ flags, env: process.env });
  const server = await startServer(config);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await server.close();
  return 0;
}
