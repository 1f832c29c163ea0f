import { useState, type FormEvent } from "react";
import { SailfinApiError } from "@sailfin/sdk";
import { explain } from "../../lib/errors.js";

/**
 * Sign-in with an access key and its secret. The secret goes to the server once, which answers
 * with an HttpOnly session cookie; the page never stores it. The URL is kept, so a deep link
 * (a task's vdlLink) opens its page right after signing in.
 */
export function SignInPage(props: { signIn: (accessKey: string, secretKey: string) => Promise<void>; notice?: string }) {
  const [accessKey, setAccessKey] = useState("");
  const [secretKey, setSecretKey] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ title: string; detail: string; hint: string } | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await props.signIn(accessKey.trim(), secretKey);
    } catch (caught) {
      setError(caught instanceof SailfinApiError && caught.code === "AccessDenied"
        ? {
          title: "Sign-in failed: the access key or secret key is wrong.",
          detail: caught.message,
          hint: "Check both values (`sailfin keys list` shows the keys; the first administrator key is SAILFIN_ACCESS_KEY / SAILFIN_SECRET_KEY of the server).",
        }
        : explain(caught));
      setBusy(false);
    }
  };

  return (
    <main className="signin">
      <form className="card signin-card" onSubmit={(e) => { void submit(e); }} aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to Sailfin</h1>
        {props.notice === undefined ? null : <p className="notice" role="status">{props.notice}</p>}
        <label className="field">
          <span>Access key</span>
          <input name="accessKey" autoComplete="username" required autoFocus value={accessKey} onChange={(e) => setAccessKey(e.target.value)} />
        </label>
        <label className="field">
          <span>Secret key</span>
          <input name="secretKey" type="password" autoComplete="current-password" required value={secretKey} onChange={(e) => setSecretKey(e.target.value)} />
        </label>
        {error === null ? null : (
          <div className="error-note" role="alert">
            <p className="error-title">{error.title}</p>
            <p className="error-detail">{error.detail}</p>
            <p className="error-hint">{error.hint}</p>
          </div>
        )}
        <button type="submit" disabled={busy || accessKey.trim() === "" || secretKey === ""}>{busy ? "Signing in…" : "Sign in"}</button>
        <p className="muted small">Your secret key is sent once over this connection; the session lasts until you sign out or it expires.</p>
      </form>
    </main>
  );
}
