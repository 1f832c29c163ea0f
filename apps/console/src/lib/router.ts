import { useSyncExternalStore, type MouseEvent } from "react";

/**
 * A history-API router for a handful of pages, instead of a routing library: the console's paths
 * are few and flat (`/console/tasks/<taskId>` …). The server answers every path under /console/
 * with index.html, so a deep link or a reload lands here and is matched by `matchRoute`.
 */

const BASE = "/console";

const listeners = new Set<() => void>();
const notify = () => { for (const listener of listeners) listener(); };
window.addEventListener("popstate", notify);

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The app path (without /console), e.g. `/tasks/task-abc`; "/" for the home page. */
function currentPath(): string {
  const path = window.location.pathname;
  const rest = path.startsWith(BASE) ? path.slice(BASE.length) : path;
  return rest === "" ? "/" : rest;
}

/** The current app path and query string; re-renders on navigation. */
export function useLocation(): { path: string; search: URLSearchParams } {
  const href = useSyncExternalStore(subscribe, () => window.location.pathname + window.location.search);
  void href;
  return { path: currentPath(), search: new URLSearchParams(window.location.search) };
}

/** Goes to an app path (`/tasks/x`); `replace` keeps the history entry (redirects). */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = BASE + (to.startsWith("/") ? to : `/${to}`);
  if (url === window.location.pathname + window.location.search) return;
  if (options.replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  window.scrollTo(0, 0);
  notify();
}

/** The href of an app path, for <a> elements (so a middle click opens a new tab). */
export function href(to: string): string {
  return BASE + to;
}

/** An anchor's click handler that navigates in-app unless a modifier asks for a new tab. */
export function onLinkClick(to: string) {
  return (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
}

/**
 * Matches `path` against a pattern with `:name` segments.
 *
 * @example matchRoute("/tasks/:taskId", "/tasks/task-1") // { taskId: "task-1" }
 */
export function matchRoute(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/").filter(Boolean);
  const got = path.split("/").filter(Boolean);
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (const [i, segment] of want.entries()) {
    const value = got[i]!;
    if (segment.startsWith(":")) {
      // A mangled link (`%E0`, a truncated `%2`) is no page, not a crash.
      try {
        params[segment.slice(1)] = decodeURIComponent(value);
      } catch {
        return null;
      }
    } else if (segment !== value) return null;
  }
  return params;
}
