import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { SailfinApiError, SailfinClient } from "@sailfin/sdk";
import { explain } from "./errors.js";

/**
 * The signed-in session: the server keeps it in an HttpOnly cookie (the secret key never stays in
 * the browser), the page keeps what `SailfinClient.currentSession` says of it (key, policies,
 * granted IAM actions, CSRF token). Every API call goes through one SailfinClient in session mode.
 */

type Session = Awaited<ReturnType<typeof SailfinClient.currentSession>>;

/** Same origin: the server that served the console answers its API. */
const BASE_URL = "";

interface SessionState {
  readonly session: Session;
  readonly client: SailfinClient;
  /** Whether the key's policies grant this IAM action (`tuning:write` …). */
  can(action: string): boolean;
  signOut(): Promise<void>;
  /** The server said the session is gone (401): back to sign-in. */
  expired(): void;
}

const SessionContext = createContext<SessionState | null>(null);

/** The session of a signed-in page. Only used under <SessionProvider> with a session. */
export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (state === null) throw new Error("useSession outside a signed-in page");
  return state;
}

/** Whether the signed-in key may do `action`: mutating controls render only when it may. */
export function useCan(action: string): boolean {
  return useSession().can(action);
}

type SessionPhase =
  | { readonly kind: "checking" }
  | { readonly kind: "signed-out"; readonly notice?: string }
  | { readonly kind: "signed-in"; readonly state: SessionState };

/** Reads the session once, and offers sign-in; the app renders by phase. */
export function useSessionPhase(): { phase: SessionPhase; signIn: (accessKey: string, secretKey: string) => Promise<void> } {
  const [phase, setPhase] = useState<SessionPhase>({ kind: "checking" });

  const adopt = useCallback((session: Session, client: SailfinClient) => {
    const actions = new Set<string>(session.actions);
    const state: SessionState = {
      session, client,
      can: (action) => actions.has(action),
      signOut: async () => {
        try {
          await client.signOut();
        } catch (error) {
          const why = explain(error);
          // Gone already (401): signed out all the same. Another tab's newer sign-in replaced the
          // cookie (InvalidCSRFToken): end that session with its own token. Anything else: still
          // signed in, and the caller shows why.
          if (!why.signedOut) {
            if (!(error instanceof SailfinApiError && error.code === "InvalidCSRFToken")) throw error;
            const fresh = await SailfinClient.currentSession({ baseUrl: BASE_URL }).catch(() => null);
            if (fresh !== null) await SailfinClient.signOut({ baseUrl: BASE_URL, csrfToken: fresh.csrfToken });
          }
        }
        setPhase({ kind: "signed-out", notice: "You are signed out." });
      },
      expired: () => setPhase({ kind: "signed-out", notice: "Your session has ended. Sign in again to continue." }),
    };
    setPhase({ kind: "signed-in", state });
  }, []);

  useEffect(() => {
    let live = true;
    SailfinClient.currentSession({ baseUrl: BASE_URL }).then(
      (session) => {
        if (live) adopt(session, new SailfinClient({ baseUrl: BASE_URL, session: { csrfToken: session.csrfToken } }));
      },
      (error: unknown) => {
        if (!live) return;
        // No session (401) is the usual answer; anything else is worth saying on the sign-in page.
        const why = explain(error);
        setPhase(why.signedOut ? { kind: "signed-out" } : { kind: "signed-out", notice: `${why.title} ${why.hint}` });
      },
    );
    return () => { live = false; };
  }, [adopt]);

  const signIn = useCallback(async (accessKey: string, secretKey: string) => {
    const { client, session } = await SailfinClient.signIn({ baseUrl: BASE_URL, accessKey, secretKey });
    adopt(session, client);
  }, [adopt]);

  return { phase, signIn };
}

export function SessionProvider(props: { state: SessionState; children: ReactNode }) {
  const value = useMemo(() => props.state, [props.state]);
  return <SessionContext.Provider value={value}>{props.children}</SessionContext.Provider>;
}
