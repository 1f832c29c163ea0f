import { z } from "zod";
import { SailfinError } from "./errors.js";

/**
 * Parses a request body with its contract schema; the first problem becomes an
 * `InvalidParameter` naming the field by its path (`datasetConfig.versions[0].versionId`).
 */
export function parseWith<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue === undefined) throw new SailfinError("InvalidParameter");
  const field = formatPath(issue.path);
  throw new SailfinError("InvalidParameter", {
    ...(field === "" ? {} : { field }),
    detail: describeIssue(issue),
  });
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type" && /received undefined/.test(issue.message)) return "is required";
  if (issue.code === "unrecognized_keys") return `unknown field(s): ${issue.keys.join(", ")}`;
  return issue.message;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Text no store or header can carry: U+0000 (PostgreSQL refuses it in text and jsonb) and an
 * unpaired UTF-16 surrogate (not Unicode: UTF-8 encoders silently turn it into U+FFFD).
 */
const UNSAFE_TEXT = new RegExp(`\\u0000|${LONE_SURROGATE.source}`);

/** `text` with each unpaired surrogate replaced by U+FFFD (String#toWellFormed, ES2024). */
export function toWellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, "\ufffd");
}

/**
 * Refuses a parsed request (JSON body, query, path parameters) that holds unsafe text in any
 * string or key: `InvalidParameter` naming the first one by its path, as parseWith would. Walked
 * without recursion, so any nesting JSON.parse accepts is fine here.
 */
export function assertSafeText(value: unknown, prefix: ReadonlyArray<PropertyKey> = []): void {
  interface Node { readonly value: unknown; readonly key: PropertyKey | undefined; readonly parent: Node | undefined }
  const pathOf = (node: Node | undefined): PropertyKey[] => {
    const path: PropertyKey[] = [];
    for (let at = node; at !== undefined; at = at.parent) if (at.key !== undefined) path.push(at.key);
    return [...prefix, ...path.reverse()];
  };
  const stack: Node[] = [{ value, key: undefined, parent: undefined }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const current = node.value;
    if (typeof current === "string") {
      if (UNSAFE_TEXT.test(current)) throw unsafeText(pathOf(node), current);
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push({ value: current[i], key: i, parent: node });
    } else if (current !== null && typeof current === "object") {
      const keys = Object.keys(current);
      for (const key of keys) if (UNSAFE_TEXT.test(key)) throw unsafeText([...pathOf(node), key], key);
      for (let i = keys.length - 1; i >= 0; i--) stack.push({ value: (current as Record<string, unknown>)[keys[i]!], key: keys[i], parent: node });
    }
  }
}

function unsafeText(path: PropertyKey[], text: string): SailfinError {
  // The field name itself may hold the character: shown escaped, so the message stays printable.
  const field = formatPath(path).replace(new RegExp(UNSAFE_TEXT.source, "g"), (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return new SailfinError("InvalidParameter", {
    ...(field === "" ? {} : { field }),
    detail: text.includes("\u0000") ? "must not contain the NUL character (U+0000)" : "must be well-formed Unicode (it holds an unpaired surrogate)",
  });
}

/**
 * An integer field with its declared range. Counts and steps that reach PostgreSQL `integer`
 * columns stay within int32; ids (`bigint` `num`) within JavaScript's safe integers.
 */
export function intField(min: number, max: number) {
  const message = `must be an integer in [${min}, ${max}]`;
  return z.number().int(message).min(min, message).max(max, message);
}

/** The largest value of a PostgreSQL `integer` column. */
export const INT32_MAX = 2_147_483_647;

/** A V1 id parameter: the numeric id or its string form (`am-…`, or digits as a string). */
export const V1Id = z.union([intField(0, Number.MAX_SAFE_INTEGER), z.string().min(1).max(64)]);
export type V1Id = z.infer<typeof V1Id>;

/** Optional V2 pagination fields shared by every list action. */
export const PageFields = {
  marker: z.string().max(64).optional(),
  maxKeys: intField(1, INT32_MAX).optional(),
  pageReverse: z.boolean().optional(),
};

/** A name as Qianfan constrains it (length [min, max]). */
export function nameField(min: number, max: number) {
  return z.string().min(min, `length must be in [${min}, ${max}]`).max(max, `length must be in [${min}, ${max}]`);
}
