import type { ReactNode } from "react";
import { useSession } from "./lib/session.js";
import { useLocation } from "./lib/router.js";
import { Link } from "./ui/link.js";
import { ErrorNote } from "./ui/feedback.js";
import { useAction } from "./lib/use-async.js";

const NAV: ReadonlyArray<{ to: string; label: string; match: readonly string[] }> = [
  { to: "/datasets", label: "Datasets", match: ["/datasets"] },
  { to: "/jobs", label: "Fine-tuning", match: ["/jobs", "/tasks"] },
  { to: "/models", label: "Models", match: ["/models", "/versions"] },
  { to: "/compression", label: "Compression", match: ["/compression"] },
  { to: "/evaluations", label: "Evaluations", match: ["/evaluations"] },
  { to: "/services", label: "Services", match: ["/services"] },
];

/** The frame of every signed-in page: skip link, brand, navigation, who is signed in, sign-out. */
export function Shell(props: { children: ReactNode }) {
  const { session, signOut } = useSession();
  const { path } = useLocation();
  const readOnly = !session.actions.some((action) => !action.endsWith(":read"));
  const signingOut = useAction(signOut);
  return (
    <>
      <a className="skip-link" href="#main">Skip to content</a>
      <header className="topbar">
        <Link to="/" className="brand">Sailfin</Link>
        <nav aria-label="Main" className="mainnav">
          {NAV.map((item) => {
            const current = item.match.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
            return <Link key={item.to} to={item.to} className={current ? "current" : undefined} aria-current={current ? "page" : undefined}>{item.label}</Link>;
          })}
        </nav>
        <div className="whoami">
          <span className="key" title={session.policies.join(", ")}>{session.accessKey}</span>
          {readOnly ? <span className="badge badge-idle" data-testid="read-only-badge">read-only</span> : null}
          <button type="button" className="secondary" disabled={signingOut.busy} onClick={() => { void signingOut.run(); }}>Sign out</button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <ErrorNote error={signingOut.error} />
        {props.children}
      </main>
    </>
  );
}
