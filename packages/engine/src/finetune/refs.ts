import { SailfinError } from "@sailfin/contract";

/**
 * How a request names an object: its public id (`job-…`, `task-…`, `ds-…`) or its number (the
 * V1 numeric id, also accepted as a string of digits).
 */
export type FinetuneRef = { readonly id: string; readonly num?: undefined } | { readonly num: number; readonly id?: undefined };

/** V1 ids arrive as `12`, `"12"` or the public id; V2 ids are always the public id. */
export function finetuneRef(value: number | string): FinetuneRef {
  if (typeof value === "number") return { num: value };
  if (/^[0-9]{1,15}$/.test(value)) return { num: Number.parseInt(value, 10) };
  return { id: value };
}

export function notFound(field: string, what: string, ref: FinetuneRef): SailfinError {
  return new SailfinError("NotFound", { field, detail: `${what} ${ref.id ?? ref.num} does not exist` });
}
