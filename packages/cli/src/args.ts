import { parseArgs } from "node:util";
import { UsageError } from "./errors.js";

/**
 * Per-command flag parsing (node:util parseArgs, strict): every command declares its flags, so
 * a misspelled one is refused naming the command and the flag it most likely meant.
 */

interface FlagSpec {
  readonly type: "string" | "boolean";
  readonly multiple?: boolean;
  readonly short?: string;
  /** Left out of the usage text (test knobs such as `--interval`). */
  readonly hidden?: boolean;
}
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;
export type FlagValues = Readonly<Record<string, string | boolean | Array<string | boolean> | undefined>>;

/** Flags every client command takes. */
export const GLOBAL_FLAGS: FlagSpecs = {
  json: { type: "boolean" },
  debug: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  profile: { type: "string" },
  "base-url": { type: "string" },
};

/** Global flags that take a value (main skips them to find the command words). */
export const GLOBAL_VALUE_FLAGS = ["--profile", "--base-url"];

export function parseFlags(command: string, args: string[], specs: FlagSpecs): { flags: FlagValues; positionals: string[] } {
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = {};
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = { type: spec.type, ...(spec.multiple ? { multiple: true } : {}), ...(spec.short ? { short: spec.short } : {}) };
  }
  try {
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
    return { flags: values, positionals };
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    const option = /'(-[^'\s]*)/.exec(message)?.[1] ?? "";
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      const guess = suggest(option.replace(/^-+/, "").split("=")[0]!, Object.keys(specs).filter((n) => !specs[n]!.hidden));
      throw new UsageError(`unknown option '${option}' for \`${command}\`${guess === undefined ? `; see \`sailfin ${command} --help\`` : ` (did you mean --${guess}?)`}`);
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      const name = option.replace(/^-+/, "");
      if (specs[name]?.type === "boolean") throw new UsageError(`option --${name} of \`${command}\` takes no value`);
      throw new UsageError(`option --${name} of \`${command}\` needs a value (write --${name}=VALUE for a value that starts with -)`);
    }
    throw new UsageError(`${message.split(".")[0]} (\`${command}\`)`);
  }
}

/**
 * The closest name within an edit distance of 2 (or a name the input is a prefix of), for
 * "did you mean" hints; undefined when nothing is close.
 */
export function suggest(input: string, names: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = name.startsWith(input) && input.length >= 3 ? 0.5 : editDistance(input, name);
    if (best === undefined || distance < best.distance) best = { name, distance };
  }
  const limit = Math.min(2, Math.max(1, Math.floor(input.length / 3)));
  return best !== undefined && best.distance <= limit ? best.name : undefined;
}

/** Damerau–Levenshtein (optimal string alignment): a swapped pair of letters costs 1. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, d[i - 2]![j - 2]! + 1);
      d[i]![j] = value;
    }
  }
  return d[a.length]![b.length]!;
}

// Typed reads of parsed flags; a bad value is a usage error naming the flag.

export function str(flags: FlagValues, name: string): string | undefined {
  const value = flags[name];
  return typeof value === "string" ? value : undefined;
}

export function required(flags: FlagValues, name: string, command: string): string {
  const value = str(flags, name);
  if (value === undefined || value === "") throw new UsageError(`\`${command}\` needs --${name}; see \`sailfin ${command} --help\``);
  return value;
}

export function bool(flags: FlagValues, name: string): boolean {
  return flags[name] === true;
}

/** A repeatable flag, with comma-separated values split too (`--model a --model b` = `--model a,b`). */
export function list(flags: FlagValues, name: string): string[] {
  const value = flags[name];
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values.filter((v): v is string => typeof v === "string").flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");
}

export function int(flags: FlagValues, name: string, range: { min?: number; max?: number } = {}): number | undefined {
  const value = str(flags, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || (range.min !== undefined && n < range.min) || (range.max !== undefined && n > range.max)) {
    throw new UsageError(`--${name} must be an integer${rangeText(range)}, got '${value}'`);
  }
  return n;
}

export function num(flags: FlagValues, name: string, range: { min?: number; max?: number } = {}): number | undefined {
  const value = str(flags, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || (range.min !== undefined && n < range.min) || (range.max !== undefined && n > range.max)) {
    throw new UsageError(`--${name} must be a number${rangeText(range)}, got '${value}'`);
  }
  return n;
}

function rangeText(range: { min?: number; max?: number }): string {
  if (range.min !== undefined && range.max !== undefined) return ` in [${range.min}, ${range.max}]`;
  if (range.min !== undefined) return ` ≥ ${range.min}`;
  if (range.max !== undefined) return ` ≤ ${range.max}`;
  return "";
}

/** `key=value` pairs (`--param warmupRatio=0.1`): numbers and true/false are typed, the rest stays text. */
export function keyValues(flags: FlagValues, name: string): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  const value = flags[name];
  for (const pair of (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((v): v is string => typeof v === "string")) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new UsageError(`--${name} takes key=value, got '${pair}'`);
    const key = pair.slice(0, at);
    const raw = pair.slice(at + 1);
    result[key] = raw === "true" ? true : raw === "false" ? false : raw.trim() !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return result;
}
