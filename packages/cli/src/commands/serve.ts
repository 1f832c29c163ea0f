import type { Command } from "../command.js";
import { serverConfig } from "./server-config.js";

const SERVER_FLAGS = { port: { type: "string" }, host: { type: "string" }, home: { type: "string" }, "database-url": { type: "string" } } as const;

export const serveCommand: Command = {
  name: "serve",
  usage: "[--port 8866] [--host 127.0.0.1] [--home DIR] [--database-url URL] [--no-worker]",
  summary: "run the server (with an embedded worker unless --no-worker)",
  client: false,
  flags: { ...SERVER_FLAGS, "no-worker": { type: "boolean" } },
  /** Runs until SIGINT/SIGTERM, then closes gracefully. */
  async run(_ctx, _args, flags) {
    const config = await serverConfig(flags);
    const { startServer } = await import("@sailfin/server");
    // Listening before the server starts: a signal during start-up (the embedded worker probes the
    // Python interpreter) then closes the server cleanly instead of killing the process.
    const stopped = new Promise<void>((resolve) => {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    });
    // Warnings go to stderr, where a person sees them even when stdout is piped or logged.
    const server = await startServer(config, console.log, { worker: flags["no-worker"] !== true, warn: (line) => console.error(line) });
    await stopped;
    await server.close();
    return 0;
  },
};
