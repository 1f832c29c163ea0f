/**
 * A valid endpoint (urlSuffix: `[a-z0-9_-]`, a letter or digit at both ends, at most 20) made
 * from a service name, as the form's suggestion; the server makes its own when none is sent.
 *
 * @example suggestEndpoint("Qwen2-Tiny V3") // "qwen2-tiny-v3"
 */
export function suggestEndpoint(name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^[-_]+/, "").slice(0, 20).replace(/[-_]+$/, "");
  return slug.length >= 2 ? slug : "";
}
