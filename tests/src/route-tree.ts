/**
 * Every `METHOD url` an app registered, from Fastify's route tree (`printRoutes()`, its only
 * listing): each line is 4-character indent groups, a branch, a path segment and its methods.
 * Used by the docs' route-table tests (compatibility-doc, openai-compatibility-doc).
 */
export function registeredRoutes(tree: string): string[] {
  const stack: string[] = [];
  const out: string[] = [];
  for (const line of tree.split("\n")) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (m === null) continue;
    stack.length = m[1]!.length / 4;
    stack.push(m[2]!);
    // HEAD comes with every GET.
    for (const method of (m[3] ?? "").split(", ")) if (method !== "" && method !== "HEAD") out.push(`${method} ${stack.join("")}`);
  }
  return out;
}

/**
 * True for a route of OpenAI's dialect: everything under `/v1/` but Qianfan's token route (as
 * app.ts's OPENAI_PATH). docs/openai-compatibility.md lists these, docs/compatibility.md the rest.
 */
export function isOpenAiRoute(name: string): boolean {
  return /^[A-Z]+ \/v1\/(?!BCE-BEARER(\/|$))/.test(name);
}
