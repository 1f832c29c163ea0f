import type { ReactNode } from "react";
import { explain } from "../lib/errors.js";

/** A load in progress: announced to screen readers, shown after nothing else is known. */
export function Loading(props: { what: string }) {
  return <p className="loading" role="status" aria-live="polite">Loading {props.what}…</p>;
}

/** An empty list: says so and says what to do about it. */
export function Empty(props: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{props.title}</p>
      {props.children === undefined ? null : <div className="empty-body">{props.children}</div>}
    </div>
  );
}

/** A failed call: what happened (the server's words) and what to do next. */
export function ErrorNote(props: { error: unknown; retry?: () => void }) {
  if (props.error === undefined || props.error === null) return null;
  const { title, detail, hint } = explain(props.error);
  return (
    <div className="error-note" role="alert">
      <p className="error-title">{title}</p>
      <p className="error-detail">{detail}</p>
      <p className="error-hint">
        {hint}
        {props.retry === undefined ? null : <> <button type="button" className="link-button" onClick={props.retry}>Retry</button></>}
      </p>
    </div>
  );
}

/** The usual shape of a loaded section: error, first load, or the content. */
export function Loaded<T>(props: { state: { data: T | undefined; error: unknown; loading: boolean; reload(): void }; what: string; children: (data: T) => ReactNode }) {
  const { data, error, reload } = props.state;
  if (data === undefined) {
    if (error !== undefined) return <ErrorNote error={error} retry={reload} />;
    return <Loading what={props.what} />;
  }
  return (
    <>
      {error === undefined ? null : <ErrorNote error={error} retry={reload} />}
      {props.children(data)}
    </>
  );
}
