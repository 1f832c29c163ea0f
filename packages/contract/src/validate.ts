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

/** A V1 id parameter: the numeric id or its string form (`am-…`, or digits as a string). */
export const V1Id = z.union([z.number().int().nonnegative(), z.string().min(1).max(64)]);
export type V1Id = z.infer<typeof V1Id>;

/** Optional V2 pagination fields shared by every list action. */
export const PageFields = {
  marker: z.string().max(64).optional(),
  maxKeys: z.number().int().min(1).optional(),
  pageReverse: z.boolean().optional(),
};

/** A name as Qianfan constrains it (length [min, max]). */
export function nameField(min: number, max: number) {
  return z.string().min(min, `length must be in [${min}, ${max}]`).max(max, `length must be in [${min}, ${max}]`);
}
