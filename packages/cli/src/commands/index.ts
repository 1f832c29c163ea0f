import { modelsCommand } from "./models.js";
import { datasetsCommand } from "./datasets.js";

/**
 * Client commands beyond `serve` and `keys`, one file each (datasets, models, …). Each family
 * appends its command here.
 */
export interface CommandDef {
  readonly name: string;
  readonly usage: string;
  run(args: string[], flags: Record<string, string | string[] | boolean | undefined>, out: (line: string) => void): Promise<number>;
}

export const COMMANDS: CommandDef[] = [modelsCommand, datasetsCommand];
