import type { ReactNode } from "react";
import { Link } from "./link.js";

/** A page's title row: breadcrumbs, the title, and its actions on the right (wrapping when narrow). */
export function PageHeader(props: { title: ReactNode; crumbs?: ReadonlyArray<{ to: string; label: string }>; actions?: ReactNode; sub?: ReactNode }) {
  return (
    <header className="page-header">
      {props.crumbs === undefined ? null : (
        <nav aria-label="Breadcrumb" className="crumbs">
          {props.crumbs.map((crumb) => <span key={crumb.to}><Link to={crumb.to}>{crumb.label}</Link> / </span>)}
        </nav>
      )}
      <div className="page-title-row">
        <h1>{props.title}</h1>
        {props.actions === undefined ? null : <div className="page-actions">{props.actions}</div>}
      </div>
      {props.sub === undefined ? null : <div className="page-sub">{props.sub}</div>}
    </header>
  );
}

export function Section(props: { title: string; children: ReactNode; actions?: ReactNode; id?: string }) {
  const id = props.id ?? `s-${props.title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return (
    <section className="section" aria-labelledby={id}>
      <div className="section-head">
        <h2 id={id}>{props.title}</h2>
        {props.actions === undefined ? null : <div className="section-actions">{props.actions}</div>}
      </div>
      {props.children}
    </section>
  );
}

/** A table that scrolls sideways on a narrow window instead of squeezing its columns. */
export function TableWrap(props: { label: string; children: ReactNode }) {
  return (
    <div className="table-wrap" role="region" aria-label={props.label} tabIndex={0}>
      <table>{props.children}</table>
    </div>
  );
}

/** Label / value pairs (a detail card). */
export function Facts(props: { items: ReadonlyArray<readonly [string, ReactNode]> }) {
  return (
    <dl className="facts">
      {props.items.map(([label, value]) => (
        <div key={label} className="fact"><dt>{label}</dt><dd>{value}</dd></div>
      ))}
    </dl>
  );
}

export function ProgressBar(props: { value: number; label: string }) {
  const value = Math.max(0, Math.min(100, props.value));
  return (
    <div className="progress">
      <progress max={100} value={value} aria-label={props.label}>{Math.round(value)}%</progress>
      <span className="progress-value">{Math.round(value)}%</span>
    </div>
  );
}

/** Shown instead of a mutating form when the key may not use it. */
export function ReadOnlyNote(props: { action: string }) {
  return <p className="read-only-note">Your access key can view this but not change it (needs <code>{props.action}</code>).</p>;
}
