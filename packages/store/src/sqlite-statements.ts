import type { Database as BetterSqliteDatabase, Statement } from "better-sqlite3";
import {
  LimitNode, SelectQueryNode, ValueNode,
  type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type RootOperationNode,
  type SqliteDatabase, type SqliteStatement, type UnknownRow,
} from "kysely";

/** Distinct SQL texts kept prepared; Kysely binds values as `?`, so this bounds query shapes, not values. */
export const DEFAULT_STATEMENT_CACHE_SIZE = 256;

/**
 * better-sqlite3 for Kysely, with prepared statements kept by SQL text. Kysely's SqliteDriver
 * calls `prepare(sql)` for every query, and on a small indexed read compiling the SQL costs
 * about as much as running it (bench/README.md). Reusing a statement is safe: better-sqlite3
 * binds the values anew on each call, and SQLite re-prepares a statement by itself when the
 * schema changes under it. The least recently used statement is dropped past `limit`; a
 * statement still being iterated (a streamed query) is never handed out twice.
 */
export class StatementCache implements SqliteDatabase {
  readonly #database: BetterSqliteDatabase;
  readonly #limit: number;
  readonly #statements = new Map<string, Statement>();
  #hits = 0;
  #misses = 0;

  constructor(database: BetterSqliteDatabase, limit = DEFAULT_STATEMENT_CACHE_SIZE) {
    this.#database = database;
    this.#limit = limit;
  }

  prepare(sql: string): SqliteStatement {
    const cached = this.#statements.get(sql);
    if (cached !== undefined && !cached.busy) {
      this.#hits += 1;
      // Map order is insertion order: re-inserting marks the statement most recently used.
      this.#statements.delete(sql);
      this.#statements.set(sql, cached);
      return cached as SqliteStatement;
    }
    this.#misses += 1;
    const statement = this.#database.prepare(sql);
    if (cached === undefined) {
      this.#statements.set(sql, statement);
      if (this.#statements.size > this.#limit) this.#statements.delete(this.#statements.keys().next().value!);
    }
    return statement as SqliteStatement;
  }

  close(): void {
    this.#statements.clear();
    this.#database.close();
  }

  /** Counters for tests and benchmarks. */
  stats(): { size: number; hits: number; misses: number } {
    return { size: this.#statements.size, hits: this.#hits, misses: this.#misses };
  }
}

/**
 * Writes a select's `LIMIT` as a literal (`LIMIT 11`) instead of a bound `LIMIT ?`. SQLite plans
 * with the value bound to a `LIMIT ?` and so recompiles the statement on every execution that
 * binds it, which would undo the StatementCache for every paged read. Only safe integers are
 * inlined (nothing else could reach the SQL text); a limit inside a subquery stays bound.
 */
export class LimitAsLiteralPlugin implements KyselyPlugin {
  transformQuery({ node }: PluginTransformQueryArgs): RootOperationNode {
    if (!SelectQueryNode.is(node) || node.limit === undefined || !ValueNode.is(node.limit.limit)) return node;
    const value = node.limit.limit.value;
    if (!(typeof value === "number" && Number.isSafeInteger(value)) && typeof value !== "bigint") return node;
    return SelectQueryNode.cloneWithLimit(node, LimitNode.create(ValueNode.createImmediate(value)));
  }

  transformResult({ result }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(result);
  }
}
