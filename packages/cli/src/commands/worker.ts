import type { Command } from "../command.js";
import { serverConfig } from "./server-config.js";

export const workerCommand: Command = {
  name: "worker",
  usage: "[--home DIR] [--database-url URL]",
  summary: "a standalone worker on the same SAILFIN_HOME / DATABASE_URL",
  client: false,
  flags: { home: { type: "string" }, "database-url": { type: "string" } },
  /** Runs until SIGINT/SIGTERM, then drains (running runs go back to the queue). */
  async run(_ctx, _args, flags) {
    const config = await serverConfig(flags);
    const [{ openEngine }, { startLocalWorker }] = await Promise.all([import("@sailfin/server"), import("@sailfin/worker")]);
    // Listening first: a signal during start-up still drains cleanly.
    const stopped = new Promise<void>((resolve) => {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    });
    const { store, res } = await openEngine(config);
    try {
      const worker = await startLocalWorker(res, config.worker);
      process.stdout.write(`sailfin worker ${worker.id} started\n`);
      await stopped;
      await worker.stop();
    } finally {
      await store.close();
    }
    return 0;
  },
};
