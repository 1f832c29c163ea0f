import { SailfinApiError, SailfinNetworkError } from "@sailfin/sdk";

/**
 * Turns a failed call into what a person needs: what happened, in the server's words, and what
 * to do next. The server's message already names the field at fault (`param[name] invalid`);
 * the hint is chosen by the error's code and HTTP status.
 */
interface Explained {
  readonly title: string;
  readonly detail: string;
  readonly hint: string;
  /** The session is gone (401): the app goes back to sign-in. */
  readonly signedOut: boolean;
}

export function explain(error: unknown): Explained {
  if (error instanceof SailfinNetworkError) {
    return {
      title: "The Sailfin server cannot be reached.",
      detail: error.message,
      hint: "Check that the server is running and this machine can reach it, then retry.",
      signedOut: false,
    };
  }
  if (error instanceof SailfinApiError) {
    const detail = error.requestId === "" ? error.message : `${error.message} (request ${error.requestId})`;
    if (error.httpStatus === 401) {
      return { title: "Your session has ended.", detail, hint: "Sign in again with your access key.", signedOut: true };
    }
    if (error.code === "InvalidCSRFToken") {
      return { title: "This page's session token is out of date.", detail, hint: "Reload the page (a newer sign-in, in another tab, replaced it).", signedOut: false };
    }
    if (error.code === "TooManyRequests" || error.httpStatus === 429) {
      return { title: "Too many attempts.", detail, hint: "Wait a minute, then try again.", signedOut: false };
    }
    if (error.code === "AccessDenied" || error.httpStatus === 403) {
      return {
        title: "Your access key is not allowed to do this.",
        detail,
        hint: "Sign in with a key whose policies grant it; an administrator can create one with `sailfin keys create`.",
        signedOut: false,
      };
    }
    if (error.code === "ResourceInUse" || error.httpStatus === 409) {
      return { title: "Not possible in its current state.", detail, hint: "Wait until it has finished (or stop it first), then try again.", signedOut: false };
    }
    if (error.code === "EntityTooLarge") {
      return { title: "The file is too large.", detail, hint: "Split it into smaller files and upload them as separate versions.", signedOut: false };
    }
    if (error.httpStatus >= 500) {
      return { title: "The server failed.", detail, hint: "Retry in a moment; if it keeps failing, the server log has the request id above.", signedOut: false };
    }
    if (error.httpStatus === 400 || error.v1Code !== undefined) {
      return { title: "The request was refused.", detail, hint: "Correct the value it names and try again.", signedOut: false };
    }
    return { title: "The request failed.", detail, hint: "Retry; if it keeps failing, reload the page.", signedOut: false };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { title: "Something went wrong.", detail: message, hint: "Reload the page and try again.", signedOut: false };
}
