/** True for a unique-constraint violation in either dialect (a lost race on a name or number). */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  return e?.code === "23505" || e?.code === "SQLITE_CONSTRAINT_UNIQUE" ||
    (typeof e?.message === "string" && /UNIQUE constraint failed/.test(e.message));
}

/**
 * Runs `insert` (a transaction that numbers a new version as max + 1 under its parent's row lock)
 * again when two writers still picked the same number: the unique (parent, version) constraint is
 * the arbiter. Model and dataset versions both number this way.
 */
export async function withVersionNumberRetry<T>(insert: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await insert();
    } catch (error) {
      if (attempt >= 5 || !isUniqueViolation(error)) throw error;
    }
  }
}
