/**
 * Shared helpers for the format checkers. A checker walks one parsed JSON line and stops at
 * the first problem: `fail` throws a `LineProblem` carrying the JSON path and the reason, which
 * the validator turns into `{line, field, reason}`. One problem per line keeps reports short on
 * a badly broken file while still naming every bad line.
 */
export type JsonPath = ReadonlyArray<string | number>;

export class LineProblem extends Error {
  readonly path: JsonPath;
  constructor(path: JsonPath, reason: string) {
    super(reason);
    this.path = path;
  }
}

export function fail(path: JsonPath, reason: string): never {
  throw new LineProblem(path, reason);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}

/** Requires an object and refuses keys outside `allowed` (a typo such as `reponse` is then named). */
export function expectObject(value: unknown, path: JsonPath, allowed: readonly string[], what: string): Record<string, unknown> {
  if (!isObject(value)) fail(path, `must be ${what}, got ${describeType(value)}`);
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail([...path, key], `unknown field; expected only ${allowed.join(", ")}`);
  }
  return value;
}

/**
 * A string with at least one non-whitespace character; returns its length in Unicode code
 * points (the "characters" Qianfan counts: one per Chinese character, not per UTF-16 unit).
 */
export function expectText(value: unknown, path: JsonPath): number {
  if (value === undefined) fail(path, "is required");
  if (typeof value !== "string") fail(path, `must be a string, got ${describeType(value)}`);
  if (value.trim() === "") fail(path, "must be a non-empty string");
  return codePoints(value);
}

function codePoints(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point in two units.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

/** A non-empty JSON array (the conversation formats hold one conversation per line). */
export function expectTurns(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) fail([], `must be a JSON array of turns, like ${what}; got ${describeType(value)}`);
  if (value.length === 0) fail([], "must hold at least one turn");
  return value;
}
