import { useCallback, useEffect, useRef, useState } from "react";
import { useSession } from "./session.js";
import { explain } from "./errors.js";

/**
 * A list read page by page with the server's markers (keyset pagination): the first page on
 * load, the next one on `loadMore()`, appended. A reload starts again from the first page; a
 * load for older `deps` is aborted and dropped. A 401 signs the page out.
 */
export interface MarkerListState<Item> {
  /** Every item loaded so far; undefined until the first page has come. */
  readonly items: readonly Item[] | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  /** The server said another page follows. */
  readonly hasMore: boolean;
  loadMore(): void;
  reload(): void;
}

type ItemPages<Item> = AsyncGenerator<{ readonly items: readonly Item[]; readonly more: boolean }, void, undefined>;

/** `open` returns the SDK's list (a `Paginated`), made with the given signal. */
export function useMarkerList<Item>(open: (signal: AbortSignal) => { itemPages(): ItemPages<Item> }, deps: readonly unknown[]): MarkerListState<Item> {
  const { expired } = useSession();
  const [state, setState] = useState<{ items: readonly Item[] | undefined; error: unknown; loading: boolean; hasMore: boolean }>(
    { items: undefined, error: undefined, loading: true, hasMore: false },
  );
  const [generation, setGeneration] = useState(0);
  const openRef = useRef(open);
  openRef.current = open;
  const cursor = useRef<{ pages: ItemPages<Item>; signal: AbortSignal } | null>(null);

  const pull = useCallback(async (pages: ItemPages<Item>, signal: AbortSignal, append: boolean) => {
    setState((s) => ({ ...s, loading: true }));
    try {
      const next = await pages.next();
      if (signal.aborted) return;
      const page = next.done === true ? { items: [], more: false } : next.value;
      setState((s) => ({ items: append ? [...(s.items ?? []), ...page.items] : page.items, error: undefined, loading: false, hasMore: page.more }));
    } catch (error) {
      if (signal.aborted) return;
      if (explain(error).signedOut) expired();
      // A failed page ends its generator: Retry (reload) starts again from the first page.
      setState((s) => ({ ...s, error, loading: false, hasMore: false }));
    }
  }, [expired]);

  useEffect(() => {
    const controller = new AbortController();
    const pages = openRef.current(controller.signal).itemPages();
    cursor.current = { pages, signal: controller.signal };
    void pull(pages, controller.signal, false);
    return () => controller.abort();
  }, [...deps, generation, pull]);

  const loadMore = useCallback(() => {
    const current = cursor.current;
    if (current !== null && !current.signal.aborted) void pull(current.pages, current.signal, true);
  }, [pull]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...state, loadMore, reload };
}
