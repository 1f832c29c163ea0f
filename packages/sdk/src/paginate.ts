import type { MarkerPage } from "@sailfin/contract/api";

/**
 * Marker pagination (reference §1.4) as an async iterator: each page's `pageInfo.nextMarker` is
 * the first id of the next page, passed back as `marker` until `isTruncated` is false. Pages are
 * fetched lazily, one at a time, as the loop consumes items.
 *
 * @example
 * for await (const job of client.jobs.list({ maxKeys: 50 })) console.log(job.jobId);
 * const firstPage = await client.jobs.list().firstPage();
 */
export class Paginated<Item, Page extends MarkerPage> implements AsyncIterable<Item> {
  readonly #fetchPage: (marker: string | undefined) => Promise<Page>;
  readonly #items: (page: Page) => readonly Item[];
  readonly #start: string | undefined;

  constructor(fetchPage: (marker: string | undefined) => Promise<Page>, items: (page: Page) => readonly Item[], start?: string) {
    this.#fetchPage = fetchPage;
    this.#items = items;
    this.#start = start;
  }

  /** The first page only (what a single list call answers). */
  firstPage(): Promise<Page> {
    return this.#fetchPage(this.#start);
  }

  /** Every page, in order. */
  async *pages(): AsyncGenerator<Page, void, undefined> {
    let marker = this.#start;
    for (;;) {
      const page = await this.#fetchPage(marker);
      yield page;
      if (!page.pageInfo.isTruncated) return;
      const next = page.pageInfo.nextMarker;
      // A truncated page without a fresh marker would loop forever: a server bug, said plainly.
      if (next === undefined || next === "" || next === marker) {
        throw new Error(`the server marked a page truncated without a new nextMarker (marker ${JSON.stringify(marker ?? "")})`);
      }
      marker = next;
    }
  }

  /** Every page's items, in order, each with whether another page follows (a "Load more" button). */
  async *itemPages(): AsyncGenerator<{ readonly items: readonly Item[]; readonly more: boolean }, void, undefined> {
    for await (const page of this.pages()) yield { items: this.#items(page), more: page.pageInfo.isTruncated };
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Item, void, undefined> {
    for await (const page of this.pages()) yield* this.#items(page);
  }

  /** All items in one array (stops after `limit` when given). */
  async toArray(limit = Infinity): Promise<Item[]> {
    const out: Item[] = [];
    if (limit <= 0) return out;
    for await (const item of this) {
      out.push(item);
      if (out.length >= limit) break;
    }
    return out;
  }
}
