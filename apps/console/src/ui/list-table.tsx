import type { ReactNode } from "react";
import type { MarkerListState } from "../lib/use-marker-list.js";
import { ErrorNote, Loading } from "./feedback.js";
import { Section, TableWrap } from "./layout.js";

/** One column of a list: its header and what a row shows in it. */
interface Column<Item> {
  readonly header: string;
  readonly cell: (item: Item) => ReactNode;
}

/**
 * A list page's table: loading, the error with Retry, the empty state (`empty`: what it is and
 * what to do), or the rows under a count, with "Load more" while the server has further pages.
 *
 * @example
 * <ListTable list={jobs} noun={["job", "jobs"]} label="Fine-tuning jobs" rowKey={(j) => j.jobId}
 *   columns={[{ header: "Name", cell: (j) => j.name }]} empty={<Empty title="No jobs yet." />} />
 */
export function ListTable<Item>(props: {
  list: MarkerListState<Item>;
  /** Singular and plural, for the count ("1 job", "3 jobs") and the loading line. */
  noun: readonly [string, string];
  label: string;
  columns: ReadonlyArray<Column<Item>>;
  rowKey: (item: Item) => string;
  empty: ReactNode;
}) {
  const { items, error, loading, hasMore, loadMore, reload } = props.list;
  const [one, many] = props.noun;
  if (items === undefined) return error === undefined ? <Loading what={many} /> : <ErrorNote error={error} retry={reload} />;
  if (items.length === 0 && error === undefined) return <>{props.empty}</>;
  const count = `${items.length}${hasMore ? "+" : ""} ${items.length === 1 && !hasMore ? one : many}`;
  return (
    <Section title={count}>
      <TableWrap label={props.label}>
        <thead><tr>{props.columns.map((c) => <th key={c.header} scope="col">{c.header}</th>)}</tr></thead>
        <tbody>
          {items.map((item) => (
            <tr key={props.rowKey(item)}>{props.columns.map((c) => <td key={c.header}>{c.cell(item)}</td>)}</tr>
          ))}
        </tbody>
      </TableWrap>
      {error === undefined ? null : <ErrorNote error={error} retry={reload} />}
      {hasMore ? (
        <button type="button" className="secondary" onClick={loadMore} disabled={loading}>{loading ? "Loading…" : "Load more"}</button>
      ) : null}
    </Section>
  );
}
