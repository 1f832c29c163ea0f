import { type Kysely, sql } from "kysely";
import * as m0001 from "./migrations/0001-initial.js";
import * as m0002 from "./migrations/0002-evaluation.js";
import * as m0003 from "./migrations/0003-webhooks.js";
import * as m0004 from "./migrations/0004-console-sessions.js";
import * as m0005 from "./migrations/0005-workers.js";
import * as m0006 from "./migrations/0006-run-references.js";
import * as m0007 from "./migrations/0007-dataset-version-state.js";
import * as m0008 from "./migrations/0008-run-placement.js";
import * as m0009 from "./migrations/0009-export-references.js";
import * as m0010 from "./migrations/0010-serving.js";
import * as m0011 from "./migrations/0011-manual-scores.js";
import * as m0012 from "./migrations/0012-openai.js";
import type { Dialect } from "./db.js";

interface Migration {
  readonly name: string;
  up(db: Kysely<any>, dialect: Dialect): Promise<void>;
}

/** Numbered, append-only. Never edit one that has landed: add the next. */
const MIGRATIONS: readonly Migration[] = [
  { name: "0001-initial", up: m0001.up },
  { name: "0002-evaluation", up: m0002.up },
  { name: "0003-webhooks", up: m0003.up },
  { name: "0004-console-sessions", up: m0004.up },
  { name: "0005-workers", up: m0005.up },
  { name: "0006-run-references", up: m0006.up },
  { name: "0007-dataset-version-state", up: m0007.up },
  { name: "0008-run-placement", up: m0008.up },
  { name: "0009-export-references", up: m0009.up },
  { name: "0010-serving", up: m0010.up },
  { name: "0011-manual-scores", up: m0011.up },
  { name: "0012-openai", up: m0012.up },
];

interface MigrationResult {
  readonly applied: string[];
}

/**
 * Applies pending migrations, each in its own transaction. On PostgreSQL an advisory lock
 * serialises replicas that start together; SQLite's single writer does the same by itself.
 */
export async function migrate(db: Kysely<any>, dialect: Dialect): Promise<MigrationResult> {
  await db.schema
    .createTable("sailfin_migrations")
    .ifNotExists()
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("applied_at", "text", (c) => c.notNull())
    .execute();
  const applied: string[] = [];
  for (const migration of MIGRATIONS) {
    const done = await db.transaction().execute(async (trx) => {
      if (dialect === "postgres") await sql`select pg_advisory_xact_lock(727272)`.execute(trx);
      const existing = await trx
        .selectFrom("sailfin_migrations")
        .select("name")
        .where("name", "=", migration.name)
        .executeTakeFirst();
      if (existing) return false;
      await migration.up(trx, dialect);
      await trx
        .insertInto("sailfin_migrations")
        .values({ name: migration.name, applied_at: new Date().toISOString() })
        .execute();
      return true;
    });
    if (done) applied.push(migration.name);
  }
  return { applied };
}
