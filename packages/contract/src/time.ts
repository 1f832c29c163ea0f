/**
 * Wire time formats (reference §1.6). Sailfin stores UTC ISO-8601 with milliseconds and renders
 * per route family. Times are rendered in UTC everywhere (offset `+00:00` where the family
 * uses offsets): a self-hosted installation has no single "platform" time zone.
 */

/** Stored form: `2024-01-16T09:48:35.123Z`. */
export function nowIso(): string {
  return new Date().toISOString();
}

/** V2 fine-tuning form: `2024-01-16T09:48:35Z`; unset is `0000-00-00T00:00:00Z`. */
export function isoZ(stored: string | null | undefined): string {
  if (!stored) return "0000-00-00T00:00:00Z";
  return `${stored.slice(0, 19)}Z`;
}

/** Model repository / compression form: `2024-03-22T17:13:33+00:00`. */
export function isoOffset(stored: string | null | undefined): string {
  if (!stored) return "";
  return `${stored.slice(0, 19)}+00:00`;
}

/** V1 fine-tuning / dataset form: `2023-12-07 11:40:00`; unset is `0000-00-00 00:00:00`. */
export function sqlTime(stored: string | null | undefined): string {
  if (!stored) return "0000-00-00 00:00:00";
  return `${stored.slice(0, 10)} ${stored.slice(11, 19)}`;
}
