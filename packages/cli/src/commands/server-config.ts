import type { ServerConfig } from "@sailfin/server";
import type { FlagValues } from "../args.js";
import { CliError } from "../errors.js";

/**
 * The server's configuration from flags and `SAILFIN_*` variables; every problem reported at once,
 * on one line. The server package (Fastify, Kysely, the engine) is loaded here, on use: client
 * commands start without it.
 */
export async function serverConfig(flags: FlagValues): Promise<ServerConfig> {
  const { ConfigError, loadServerConfig } = await import("@sailfin/server");
  try {
    return loadServerConfig({ flags: flags as Record<string, string | undefined>, env: process.env });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(`invalid configuration: ${error.problems.join("; ")}`);
    throw error;
  }
}
