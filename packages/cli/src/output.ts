/** Renders rows as an aligned text table for people (`--json` prints the raw result instead). */
export function table(rows: readonly object[], columns: readonly string[]): string {
  const cells = rows.map((row) => columns.map((c) => format((row as Record<string, unknown>)[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(columns), ...cells.map(line)].join("\n");
}

/** `key: value` lines of an object (nested values as JSON), in `keys` order when given. */
export function record(value: object, keys?: readonly string[]): string {
  const fields = value as Record<string, unknown>;
  const shown = (keys ?? Object.keys(fields)).filter((k) => fields[k] !== undefined);
  return shown.map((k) => `${k}: ${format(fields[k])}`).join("\n");
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

function format(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (Array.isArray(value)) return value.every((v) => typeof v !== "object" || v === null) ? value.join(",") : JSON.stringify(value);
  if (typeof value === "object") return JSON.stringify(value);
  if (typeof value === "number" && !Number.isInteger(value)) return String(Number(value.toPrecision(6)));
  return String(value);
}
