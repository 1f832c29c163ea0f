/**
 * Small text renderings shared by progress bars and the training watch: bars, sparklines,
 * durations, byte and rate figures. Pure functions (unit-tested in format.test.ts).
 */

const SPARKS = "▁▂▃▄▅▆▇█";

/** `[#####-----]`: `fraction` (clamped to [0, 1]) of `width` cells filled. */
export function bar(fraction: number, width = 10): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

/**
 * The last `width` values as ▁…█, scaled between their own minimum and maximum (a loss curve's
 * shape, not its level); a flat series is drawn at the middle.
 */
export function sparkline(values: readonly number[], width = 16): string {
  const shown = values.filter((v) => Number.isFinite(v)).slice(-width);
  if (shown.length === 0) return "";
  const min = Math.min(...shown);
  const max = Math.max(...shown);
  return shown.map((v) => SPARKS[max === min ? 3 : Math.round(((v - min) / (max - min)) * (SPARKS.length - 1))]).join("");
}

/** `0:21`, `12:05`, `1:02:03`. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

/** `34 s`, `12 min 5 s`, `2 h 3 min`. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 === 0 ? "" : ` ${s % 60} s`}`;
  const m = Math.floor((s % 3600) / 60);
  return `${Math.floor(s / 3600)} h${m === 0 ? "" : ` ${m} min`}`;
}

/** `512 B`, `1.2 KiB`, `3.4 MiB`, `1.1 GiB`. */
export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** A loss as people read it: 4 significant digits (`1.234`, `0.01234`). */
export function loss(value: number): string {
  return Number(value.toPrecision(4)).toString();
}

/** `1,234,567`. */
export function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
