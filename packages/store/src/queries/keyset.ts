import type { SelectQueryBuilder } from "kysely";
import { SailfinError, toPage, type Page, type PageRequest } from "@sailfin/contract";

/**
 * One keyset page over any table with `num` (creation order) and `id` (public id), newest
 * first unless `reverse`. Fetches `limit + 1` rows: the extra one is the next marker. No
 * OFFSET: page 50,000 costs what page 1 costs (one index seek).
 *
 * `query` is the filtered base query (already `selectFrom(table)` with its `where`s);
 * `markerNum` resolves the marker within the same filter, so a marker from another list is
 * rejected as `InvalidMarker`.
 */
export async function keysetPage<Row extends { num: number; id: string }>(
  query: SelectQueryBuilder<any, any, Row>,
  request: PageRequest,
  table: string,
): Promise<Page<Row>> {
  let q = query;
  if (request.marker !== undefined) {
    const marker = await query
      .clearSelect()
      .select(`${table}.num as num` as any)
      .where(`${table}.id` as any, "=", request.marker)
      .executeTakeFirst();
    if (marker === undefined) throw new SailfinError("InvalidMarker", { field: "marker" });
    q = q.where(`${table}.num` as any, request.reverse ? ">=" : "<=", (marker as { num: number }).num);
  }
  const rows = await q
    .orderBy(`${table}.num` as any, request.reverse ? "asc" : "desc")
    .limit(request.limit + 1)
    .execute();
  return toPage(rows as Row[], request, (row) => row.id);
}
