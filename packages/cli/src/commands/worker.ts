import { loadServerConfig, openEngine } from "@sailfin/server";
import { startLocalWorker } from "@sailfin/worker";

export const WORKER_USAGE = "sailfin worker [--home DIR] [--database-url URL]   (a standalone worker on the same SAILFIN_HOME / DATABASE_URL)";

/** Runs a standalone worker until SIGINT/SIGTERM, then drains (running runs go back to the queue). */
export async function runWorker(flags: Record<string, string | undefined>): Promise<number> {
  const config = loadServerConfig({ flags, env: process.env });
  // Listening first: a signal during start-up still drains cleanly.
  const stopped = new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  const { store, res } = await openEngine(config);
  try {
    const worker = await startLocalWorker(res);
    process.stdout.write(`sailfin worker ${worker.id} started\n`);
    await stopped;
    await worker.stop();
  } finally {
    await store.close();
  }
  return 0;
}
