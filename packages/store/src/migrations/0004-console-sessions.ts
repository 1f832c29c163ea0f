import type { Kysely } from "kysely";

/**
 * Web console sessions (issue 6). Frozen in time: never import application code here.
 *
 * - `console_sessions`: one row per signed-in browser. The cookie's token is stored only as its
 *   sha256 (a copied database yields no usable cookie); the CSRF token is stored as it is, being
 *   useless without the cookie. The secret key is never stored here: the session acts for
 *   `access_key`, whose row (and policies) is read at every use, so deleting the key ends its
 *   sessions. Expired rows are removed lazily (at sign-in and when met).
 */
type Dialect = "sqlite" | "postgres";

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.createTable("console_sessions")
    .addColumn("token_hash", "text", (c) => c.primaryKey())
    .addColumn("access_key", "text", (c) => c.notNull())
    .addColumn("csrf_token", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("last_seen_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("console_sessions_expires").on("console_sessions").column("expires_at").execute();
  await db.schema.createIndex("console_sessions_key").on("console_sessions").column("access_key").execute();
}
