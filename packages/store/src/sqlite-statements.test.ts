import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { pageRequest } from "@sailfin/contract";
import { openStore, type Store } from "./db.js";
import { keysetPage } from "./queries/keyset.js";
import { StatementCache } from "./sqlite-statements.js";

describe("StatementCache", () => {
  const open = (limit?: number) => {
    const database = new BetterSqlite3(":memory:");
    database.exec("CREATE TABLE t (num INTEGER PRIMARY KEY, name TEXT NOT NULL)");
    database.exec("INSERT INTO t (name) VALUES ('a'), ('b'), ('c')");
    return new StatementCache(database, limit);
  };

  test("the same SQL text is prepared once and answers with fresh bindings", () => {
    const cache = open();
    const q = "SELECT name FROM t WHERE num = ?";
    assert.deepEqual(cache.prepare(q).all([1]), [{ name: "a" }]);
    assert.deepEqual(cache.prepare(q).all([3]), [{ name: "c" }]);
    assert.equal(cache.prepare(q), cache.prepare(q));
    assert.deepEqual(cache.stats(), { size: 1, hits: 3, misses: 1 });
    cache.close();
  });

  test("past its limit it drops the least recently used statement", () => {
    const cache = open(2);
    const [a, b, c] = ["SELECT 1", "SELECT 2", "SELECT 3"];
    const first = cache.prepare(a);
    cache.prepare(b);
    cache.prepare(a); // a is now the most recent: b goes first
    cache.prepare(c);
    assert.equal(cache.stats().size, 2);
    assert.equal(cache.prepare(a), first);
    const misses = cache.stats().misses;
    cache.prepare(b);
    assert.equal(cache.stats().misses, misses + 1, "b was evicted and prepared again");
    cache.close();
  });

  test("a statement still being iterated is not handed out again", () => {
    const cache = open();
    const q = "SELECT name FROM t ORDER BY num";
    const outer = cache.prepare(q).iterate([]);
    assert.deepEqual(outer.next().value, { name: "a" });
    // A second reader of the same SQL while the first is mid-iteration gets its own statement.
    assert.deepEqual(cache.prepare(q).all([]).map((r) => (r as { name: string }).name), ["a", "b", "c"]);
    assert.deepEqual([...outer].map((r) => (r as { name: string }).name), ["b", "c"]);
    cache.close();
  });

  test("rows are plain objects keyed by column name, the last of a repeated name winning", () => {
    const cache = open();
    assert.deepEqual(cache.prepare("SELECT num, name, num + 10 AS num FROM t WHERE num = ?").all([2]), [{ num: 12, name: "b" }]);
    assert.deepEqual([...cache.prepare("SELECT name AS n FROM t ORDER BY num").iterate([])], [{ n: "a" }, { n: "b" }, { n: "c" }]);
    cache.close();
  });

  test("a schema change made through the cache drops the cached statements", () => {
    const cache = open();
    const q = "SELECT * FROM t WHERE num = ?";
    assert.deepEqual(cache.prepare(q).all([1]), [{ num: 1, name: "a" }]);
    cache.prepare("ALTER TABLE t RENAME COLUMN name TO label").run([]);
    assert.equal(cache.stats().size, 0);
    assert.deepEqual(cache.prepare(q).all([1]), [{ num: 1, label: "a" }]);
    cache.close();
  });

  test("a column added by another connection shows in a cached SELECT *", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sailfin-statements-"));
    const path = join(dir, "t.db");
    const cache = new StatementCache(new BetterSqlite3(path));
    cache.prepare("CREATE TABLE t (num INTEGER PRIMARY KEY, name TEXT NOT NULL)").run([]);
    cache.prepare("INSERT INTO t (name) VALUES (?)").run(["a"]);
    const q = "SELECT * FROM t";
    assert.deepEqual(cache.prepare(q).all([]), [{ num: 1, name: "a" }]);
    const other = new BetterSqlite3(path);
    other.exec("ALTER TABLE t ADD COLUMN extra TEXT NOT NULL DEFAULT 'x'");
    other.close();
    assert.deepEqual(cache.prepare(q).all([]), [{ num: 1, name: "a", extra: "x" }]);
    cache.close();
    await rm(dir, { recursive: true, force: true });
  });
});

describe("openStore (sqlite): statements are reused", () => {
  let dir: string;
  let store: Store;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sailfin-statements-"));
    store = await openStore({ dialect: "sqlite", path: join(dir, "t.db") });
    const now = new Date().toISOString();
    await store.db.insertInto("finetune_jobs").values(Array.from({ length: 30 }, (_, i) => ({
      id: `job-${String(i).padStart(12, "0")}`, name: `job ${i}`, description: "", model: "m",
      train_mode: "SFT", parameter_scale: null, base_train_type: "", created_at: now, modified_at: now,
    }))).execute();
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("a repeated keyset page prepares no statement after the first", async () => {
    const page = () => keysetPage(store.db.selectFrom("finetune_jobs").selectAll(), pageRequest({ maxKeys: 10 }), "finetune_jobs");
    const first = await page();
    const prepare = BetterSqlite3.prototype.prepare;
    let prepared = 0;
    BetterSqlite3.prototype.prepare = function (this: BetterSqlite3.Database, source: string) {
      prepared += 1;
      return prepare.call(this, source);
    } as typeof prepare;
    try {
      for (let i = 0; i < 5; i++) assert.deepEqual(await page(), first);
    } finally {
      BetterSqlite3.prototype.prepare = prepare;
    }
    assert.equal(prepared, 0);
  });

  test("LIMIT is written as a literal (a bound LIMIT makes SQLite re-prepare on every run)", () => {
    const compiled = store.db.selectFrom("finetune_jobs").select("id").orderBy("num", "desc").limit(11).compile();
    assert.match(compiled.sql, /limit 11$/);
    assert.deepEqual(compiled.parameters, []);
    // Anything but a safe integer stays a bound parameter.
    const bound = store.db.selectFrom("finetune_jobs").select("id").limit(2 ** 53).compile();
    assert.match(bound.sql, /limit \?$/);
  });

  test("cached statements work inside a transaction and see its rollback", async () => {
    const count = async (db: Pick<Store["db"], "selectFrom">) =>
      Number((await db.selectFrom("finetune_jobs").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n);
    const before = await count(store.db);
    await assert.rejects(store.db.transaction().execute(async (trx) => {
      await trx.deleteFrom("finetune_jobs").where("id", "=", "job-000000000000").execute();
      assert.equal(await count(trx), before - 1);
      throw new Error("roll back");
    }), /roll back/);
    assert.equal(await count(store.db), before);
  });
});
