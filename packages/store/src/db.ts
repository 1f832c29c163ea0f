import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { Kysely, PostgresDialect, SqliteDialect, type Transaction } from "kysely";
import type { Database } from "./schema.js";
import { migrate } from "./migrate.js";
import { LimitAsLiteralPlugin, StatementCache } from "./sqlite-statements.js";

export type Dialect = "sqlite" | "postgres";

/** The database or a transaction on it: a function that takes one runs alone or inside its caller's transaction. */
export type Db = Kysely<Database> | Transaction<Database>;

type StoreConfig =
  | { readonly dialect: "sqlite"; readonly path: string }
  | {
      readonly dialect: "postgres";
      readonly url: string;
      readonly poolSize?: number;
      /** Told about errors of idle pooled connections (a PostgreSQL restart, a terminated backend). */
      readonly onIdleError?: (error: Error) => void;
    };

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  close(): Promise<void>;
}

/**
 * Opens the database and applies pending migrations.
 *
 * @example
 * const store = await openStore({ dialect: "sqlite", path: ".sailfin/sailfin.db" });
 */
export async function openStore(config: StoreConfig): Promise<Store> {
  const db = config.dialect === "sqlite"
    ? openSqlite(config.path)
    : openPostgres(config.url, config.poolSize, config.onIdleError);
  try {
    await migrate(db as Kysely<any>, config.dialect);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return { db, dialect: config.dialect, close: () => db.destroy() };
}

function openSqlite(path: string): Kysely<Database> {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const database = new BetterSqlite3(path);
  database.pragma("journal_mode = WAL");
  // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the
  // last commits, which the lease/heartbeat protocol tolerates.
  database.pragma("synchronous = NORMAL");
  database.pragma("busy_timeout = 5000");
  database.pragma("foreign_keys = ON");
  return new Kysely<Database>({
    dialect: new SqliteDialect({ database: new StatementCache(database) }),
    plugins: [new LimitAsLiteralPlugin()],
  });
}

function openPostgres(url: string, poolSize = 10, onIdleError: (error: Error) => void = () => {}): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    // bigserial / bigint come back as strings by default; our numbers stay far below 2^53.
    types: {
      getTypeParser: (oid: number, format?: any) =>
        oid === 20 ? (value: string) => Number.parseInt(value, 10) : pg.types.getTypeParser(oid, format),
    },
  });
  // An idle client's error (server restart, terminated backend) is re-emitted on the pool; with
  // no listener Node turns it into an uncaught exception that kills the process. The pool drops
  // the broken client by itself and the next query opens a new one.
  pool.on("error", onIdleError);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
