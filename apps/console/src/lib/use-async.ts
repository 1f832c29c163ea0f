import { useCallback, useEffect, useRef, useState } from "react";
import { useSession } from "./session.js";
import { explain } from "./errors.js";

/**
 * Loads data for a page: `data` (kept while reloading, so a refresh does not flash a spinner),
 * `error`, `loading`, and `reload()`. A 401 anywhere signs the page out. A load started for an
 * older `deps` is aborted and its answer dropped.
 */
interface AsyncState<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  reload(): void;
}

export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): AsyncState<T> {
  const { expired } = useSession();
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    loadRef.current(controller.signal).then(
      (data) => { if (!controller.signal.aborted) setState({ data, error: undefined, loading: false }); },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        if (explain(error).signedOut) expired();
        setState((s) => ({ data: s.data, error, loading: false }));
      },
    );
    return () => controller.abort();
  }, [...deps, generation, expired]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...state, reload };
}

/**
 * Runs a user action (a button): `busy` while it runs, `error` if it failed (shown beside the
 * button), a 401 signs out. Resolves to the action's value, or undefined when it failed.
 */
export function useAction<A extends unknown[], T>(action: (...args: A) => Promise<T>): {
  run: (...args: A) => Promise<T | undefined>;
  busy: boolean;
  error: unknown;
  clear: () => void;
} {
  const { expired } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const actionRef = useRef(action);
  actionRef.current = action;
  const run = useCallback(async (...args: A) => {
    setBusy(true);
    setError(undefined);
    try {
      return await actionRef.current(...args);
    } catch (caught) {
      if (explain(caught).signedOut) expired();
      setError(caught);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, [expired]);
  const clear = useCallback(() => setError(undefined), []);
  return { run, busy, error, clear };
}

/**
 * Re-reads `state` every `ms` while `active`, counting from when the previous read settled: a
 * read slower than the interval finishes instead of being aborted by the next one.
 */
export function usePolling(state: Pick<AsyncState<unknown>, "loading" | "reload">, ms: number, active: boolean): void {
  const { loading, reload } = state;
  useEffect(() => {
    if (!active || loading) return;
    const timer = setTimeout(reload, ms);
    return () => clearTimeout(timer);
  }, [active, loading, reload, ms]);
}

/**
 * A signal that aborts when the component unmounts: an upload started by a form stops when the
 * person navigates away, instead of finishing later and pulling them back to its result.
 */
export function useUnmountSignal(): AbortSignal {
  const controller = useRef<AbortController | null>(null);
  controller.current ??= new AbortController();
  useEffect(() => {
    // StrictMode mounts twice: a fresh controller for the second mount.
    if (controller.current?.signal.aborted) controller.current = new AbortController();
    const current = controller.current!;
    return () => current.abort();
  }, []);
  return controller.current.signal;
}
