/**
 * Placeholder of the calls slice's engine client (issue 15, interfaces §3): only the endpoint
 * type find-serving needs. On merge the calls slice's file replaces this one whole.
 */

export interface EngineEndpoint { readonly url: string; readonly apiKey: string | null; readonly servedModelName: string }
