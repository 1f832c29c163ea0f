import type { Command } from "../command.js";
import { chatCommand } from "./chat.js";
import { compressCommands } from "./compress.js";
import { datasetsCommands } from "./datasets.js";
import { evalsCommands } from "./evals.js";
import { exportsCommands } from "./exports.js";
import { jobsCommands } from "./jobs.js";
import { keysCommands } from "./keys.js";
import { loginCommands } from "./login.js";
import { modelsCommands } from "./models.js";
import { serveCommand } from "./serve.js";
import { servicesCommands } from "./services.js";
import { tasksCommands } from "./tasks.js";
import { workerCommand } from "./worker.js";

/**
 * Every `sailfin` command, in the order `sailfin --help` lists them. A command family is one
 * file here; adding one is adding its list below.
 */
export const COMMANDS: readonly Command[] = [
  serveCommand,
  workerCommand,
  ...loginCommands,
  ...keysCommands,
  ...datasetsCommands,
  ...modelsCommands,
  ...jobsCommands,
  ...tasksCommands,
  ...compressCommands,
  ...evalsCommands,
  ...exportsCommands,
  ...servicesCommands,
  chatCommand,
];
