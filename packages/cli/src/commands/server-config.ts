import { ConfigError, loadServerConfig, type ServerConfig } from "@sailfin/server";
import type { FlagValues } from "../args.js";
import { CliError } from "../errors.js";

/** The server's configuration from flags and `SAILFIN_*` variables; every problem reported at once, on one line. */
export function serverConfig(flags: FlagValues): ServerConfig {
  try {
    return loadServerConfig({ flags: flags as Record<string, string | undefined>, env: process.env });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(`invalid configuration: ${error.problems.join("; ")}`);
    throw error;
  }
}
