import { parseArgs } from "node:util";
import { ApiError } from "./client.js";
import { SERVE_USAGE, serve } from "./commands/serve.js";
import { WORKER_USAGE, runWorker } from "./commands/worker.js";
import { KEYS_USAGE, keys } from "./commands/keys.js";
import { COMMANDS } from "./commands/index.js";

const USAGE = `usage:
  ${SERVE_USAGE}
  ${WORKER_USAGE}
  ${KEYS_USAGE.split("\n").join("\n  ")}
${COMMANDS.map((c) => `  ${c.usage.split("\n").join("\n  ")}`).join("\n")}

Client commands read QIANFAN_CONSOLE_API_BASE_URL (default http://127.0.0.1:8866),
QIANFAN_ACCESS_KEY and QIANFAN_SECRET_KEY, like the official Qianfan SDKs.`;

/** The `sailfin` command line. Returns the exit code; errors are one line unless `--debug`. */
export async function main(argv: string[]): Promise<number> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        port: { type: "string" }, host: { type: "string" }, home: { type: "string" }, "database-url": { type: "string" },
        policy: { type: "string", multiple: true }, description: { type: "string" },
        name: { type: "string" }, format: { type: "string" }, bucket: { type: "string" }, arch: { type: "string" },
        json: { type: "boolean" }, "no-worker": { type: "boolean" }, debug: { type: "boolean" }, help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    process.stderr.write(`sailfin: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { positionals, values } = parsed;
  const [command, ...args] = positionals;
  if (command === undefined || values.help) {
    out(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  try {
    if (command === "serve") return await serve(values as Record<string, string | boolean | undefined>);
    if (command === "worker") return await runWorker(values as Record<string, string | undefined>);
    if (command === "keys") return await keys(args, values, out);
    const def = COMMANDS.find((c) => c.name === command);
    if (def !== undefined) return await def.run(args, values, out);
    process.stderr.write(`sailfin: unknown command "${command}"\n${USAGE}\n`);
    return 2;
  } catch (error) {
    if (values.debug) process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    if (error instanceof ApiError) {
      process.stderr.write(`sailfin: ${error.code}: ${error.message}${error.requestId ? ` (request ${error.requestId})` : ""}\n`);
    } else {
      process.stderr.write(`sailfin: ${(error as Error).message}\n`);
    }
    return 1;
  }
}
