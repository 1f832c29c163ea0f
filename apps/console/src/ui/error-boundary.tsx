import { Component, type ErrorInfo, type ReactNode } from "react";

/**
 * Keeps a page's failure on the page: a render error (a bug, or a chart chunk that a rebuild
 * removed while this tab was open) shows what happened and a Reload button instead of blanking
 * the whole console. The shell and navigation stay usable.
 */
export class PageErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: Error): { error: Error } {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    // Kept for whoever opens the developer tools; the page says what to do.
    console.warn("console page failed", error, info.componentStack);
  }

  override render(): ReactNode {
    if (this.state.error === null) return this.props.children;
    return (
      <div className="error-note" role="alert">
        <p className="error-title">This page failed to show.</p>
        <p className="error-detail">{this.state.error.message}</p>
        <p className="error-hint">
          The console may have been updated since this tab opened: reload it.{" "}
          <button type="button" className="link-button" onClick={() => window.location.reload()}>Reload</button>
        </p>
      </div>
    );
  }
}
