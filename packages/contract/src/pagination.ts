import { SailfinError } from "./errors.js";

/**
 * Marker pagination as Qianfan does it (reference §1.4): the marker is the id of the first item
 * of the page (inclusive), `maxKeys` defaults to 10 and is clamped to 100, default order is
 * newest first and `pageReverse` turns it to oldest first.
 */
export interface PageRequest {
  readonly marker: string | undefined;
  readonly limit: number;
  readonly reverse: boolean;
}

export interface PageInfo {
  marker: string;
  maxKeys: number;
  isTruncated: boolean;
  nextMarker?: string;
}

export interface Page<T> {
  readonly items: T[];
  readonly pageInfo: PageInfo;
}

const DEFAULT_MAX_KEYS = 10;
const MAX_MAX_KEYS = 100;

export function pageRequest(input: { marker?: unknown; maxKeys?: unknown; pageReverse?: unknown }): PageRequest {
  const { marker, maxKeys, pageReverse } = input;
  if (marker !== undefined && marker !== null && typeof marker !== "string") {
    throw new SailfinError("InvalidParameter", { field: "marker", detail: "must be a string" });
  }
  let limit = DEFAULT_MAX_KEYS;
  if (maxKeys !== undefined && maxKeys !== null) {
    if (typeof maxKeys !== "number" || !Number.isInteger(maxKeys) || maxKeys < 1) {
      throw new SailfinError("InvalidParameter", { field: "maxKeys", detail: "must be a positive integer" });
    }
    limit = Math.min(maxKeys, MAX_MAX_KEYS);
  }
  if (pageReverse !== undefined && pageReverse !== null && typeof pageReverse !== "boolean") {
    throw new SailfinError("InvalidParameter", { field: "pageReverse", detail: "must be a boolean" });
  }
  return { marker: marker ? marker : undefined, limit, reverse: pageReverse === true };
}

/** Builds the page from `limit + 1` fetched rows: the extra row, if any, is the next marker. */
export function toPage<T>(rows: T[], request: PageRequest, idOf: (row: T) => string): Page<T> {
  const truncated = rows.length > request.limit;
  const items = truncated ? rows.slice(0, request.limit) : rows;
  const pageInfo: PageInfo = { marker: request.marker ?? "", maxKeys: request.limit, isTruncated: truncated };
  if (truncated) pageInfo.nextMarker = idOf(rows[request.limit] as T);
  return { items, pageInfo };
}
