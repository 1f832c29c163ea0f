import type { Kysely, SelectQueryBuilder } from "kysely";
import { SailfinError, toPage, type Page, type PageRequest } from "@sailfin/contract";
import { CompiledQueries } from "./compiled.js";

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

const listings = new CompiledQueries();

/**
 * `keysetPage` for the common case of one table filtered by column equality (`undefined`
 * values are left out), with its SQL compiled once per shape (`CompiledQueries`): the same rows,
 * the same markers, without building the query anew on every request.
 */
export async function keysetPageWhere<Row extends { num: number; id: string }>(
  db: Kysely<any>,
  table: string,
  equal: Readonly<Record<string, string | undefined>>,
  request: PageRequest,
  /** The columns to read (`num` and `id` among them); every column when absent. */
  select?: readonly string[],
): Promise<Page<Row>> {
  const columns = Object.keys(equal).filter((column) => equal[column] !== undefined);
  const values: Record<string, unknown> = { ...equal };
  const base = (param: (name: string) => any) => {
    let query = select === undefined ? db.selectFrom(table).selectAll() : db.selectFrom(table).select(select as string[]);
    for (const column of columns) query = query.where(column, "=", param(column));
    return query;
  };
  const shape = `${table}\u0000${select?.join(",") ?? "*"}\u0000${columns.join(",")}`;
  const marker = request.marker !== undefined;
  if (marker) {
    const found = await listings.execute<{ num: number }>(db, `${shape}\u0000marker`, { ...values, marker: request.marker }, (param) =>
      base(param).clearSelect().select(`${table}.num as num`).where(`${table}.id`, "=", param("marker")));
    if (found.length === 0) throw new SailfinError("InvalidMarker", { field: "marker" });
    values.markerNum = found[0]!.num;
  }
  const rows = await listings.execute<Row>(db, `${shape}\u0000${marker}\u0000${request.reverse}\u0000${request.limit}`, values, (param) => {
    let query = base(param);
    if (marker) query = query.where(`${table}.num`, request.reverse ? ">=" : "<=", param("markerNum"));
    return query.orderBy(`${table}.num`, request.reverse ? "asc" : "desc").limit(request.limit + 1);
  });
  return toPage(rows, request, (row) => row.id);
}
