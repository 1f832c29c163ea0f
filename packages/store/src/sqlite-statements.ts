import type { Database as BetterSqliteDatabase, Statement } from "better-sqlite3";
import {
  LimitNode, SelectQueryNode, ValueNode,
  type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type RootOperationNode,
  type SqliteDatabase, type SqliteStatement, type UnknownRow,
} from "kysely";

const SCHEMA_CHANGE = /^\s*(create|alter|drop)\b/i;

/** Distinct SQL texts kept prepared; Kysely binds values as `?`, so this bounds query shapes, not values. */
const DEFAULT_STATEMENT_CACHE_SIZE = 256;

/**
 * better-sqlite3 for Kysely, with prepared statements kept by SQL text. Kysely's SqliteDriver
 * calls `prepare(sql)` for every query, and on a small indexed read compiling the SQL costs
 * about as much as running it (bench/README.md). Reusing a statement is safe: better-sqlite3
 * binds the values anew on each call, and SQLite re-prepares a statement by itself when the
 * schema changes under it. The least recently used statement is dropped past `limit`; a
 * statement still being iterated (a streamed query) is never handed out twice.
 *
 * Readers hand back rows built from better-sqlite3's raw arrays (see RowReader); their column
 * names are read once per statement, so a schema change made through this cache (a migration)
 * drops every cached statement.
 */
export class StatementCache implements SqliteDatabase {
  readonly #database: BetterSqliteDatabase;
  readonly #limit: number;
  readonly #statements = new Map<string, SqliteStatement & { readonly busy: boolean }>();
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
      return cached;
    }
    this.#misses += 1;
    if (SCHEMA_CHANGE.test(sql)) {
      this.#statements.clear();
      return this.#database.prepare(sql) as SqliteStatement;
    }
    const prepared = this.#database.prepare(sql);
    const statement = prepared.reader ? new RowReader(prepared) : prepared as SqliteStatement & { readonly busy: boolean };
    if (cached === undefined) {
      this.#statements.set(sql, statement);
      if (this.#statements.size > this.#limit) this.#statements.delete(this.#statements.keys().next().value!);
    }
    return statement;
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
 * A reading statement whose rows come from better-sqlite3's `raw` arrays and are made objects
 * here: better-sqlite3 builds each row object property by property from C++, which costs about
 * twice as much as the arrays plus this loop (a page of 11 jobs: 38 µs against 24 µs). Same
 * objects as better-sqlite3's (a repeated column name keeps its last value). The names are read
 * once; a row of another width (a column added or dropped by another connection) reads them again.
 */
class RowReader implements SqliteStatement {
  readonly reader = true;
  readonly #statement: Statement;
  #names: string[];

  constructor(statement: Statement) {
    this.#statement = statement.raw(true);
    this.#names = this.#columnNames();
  }

  get busy(): boolean {
    return this.#statement.busy;
  }

  all(parameters: ReadonlyArray<unknown>): unknown[] {
    const rows = this.#statement.all(parameters) as unknown[][];
    const out = new Array<Record<string, unknown>>(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = this.#object(rows[i]!);
    return out;
  }

  *iterate(parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    for (const row of this.#statement.iterate(parameters)) yield this.#object(row as unknown[]);
  }

  run(parameters: ReadonlyArray<unknown>): { changes: number | bigint; lastInsertRowid: number | bigint } {
    return this.#statement.run(parameters);
  }

  #object(row: unknown[]): Record<string, unknown> {
    if (row.length !== this.#names.length) this.#names = this.#columnNames();
    const names = this.#names;
    const object: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) object[names[i]!] = row[i];
    return object;
  }

  #columnNames(): string[] {
    return this.#statement.columns().map((column) => column.name);
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
