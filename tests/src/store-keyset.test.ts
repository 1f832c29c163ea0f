import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pageRequest, SailfinError } from "@sailfin/contract";
import type { Kysely } from "kysely";
import { enqueueRun } from "@sailfin/engine";
import { CompiledQueries, keysetPage, keysetPageWhere, migrate, openStore, type Store } from "@sailfin/store";
import { ADMIN, createTestDatabase, testDialects, type TestDialect } from "./harness.js";

/** Opens a store on a fresh SQLite file or a fresh PostgreSQL database. */
async function freshStore(dialect: TestDialect): Promise<{ store: Store; cleanup: () => Promise<void> }> {
  if (dialect === "sqlite") {
    const dir = await mkdtemp(join(tmpdir(), "sailfin-store-"));
    const store = await openStore({ dialect: "sqlite", path: join(dir, "t.db") });
    return { store, cleanup: async () => { await store.close(); await rm(dir, { recursive: true, force: true }); } };
  }
  const database = await createTestDatabase();
  const store = await openStore({ dialect: "postgres", url: database.url });
  return { store, cleanup: async () => { await store.close(); await database.drop(); } };
}

for (const dialect of testDialects()) {
  describe(`store: keyset pagination and migrations (${dialect})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    const N = 1000;
    before(async () => {
      ({ store, cleanup } = await freshStore(dialect));
      const now = new Date().toISOString();
      const rows = Array.from({ length: N }, (_, i) => ({
        id: `job-${String(i).padStart(12, "0")}`, name: `job ${i}`, description: "", model: i % 2 ? "a" : "b",
        train_mode: "SFT", parameter_scale: null, base_train_type: "", created_at: now, modified_at: now,
      }));
      for (let i = 0; i < N; i += 250) await store.db.insertInto("finetune_jobs").values(rows.slice(i, i + 250)).execute();
    });
    after(async () => { await cleanup(); });

    const walk = async (maxKeys: number, reverse: boolean, model?: string) => {
      const seen: string[] = [];
      let marker: string | undefined;
      let pages = 0;
      for (;;) {
        let q = store.db.selectFrom("finetune_jobs").selectAll();
        if (model !== undefined) q = q.where("model", "=", model);
        const page = await keysetPage(q, pageRequest({ marker, maxKeys, pageReverse: reverse }), "finetune_jobs");
        pages += 1;
        assert.ok(page.items.length <= Math.min(maxKeys, 100));
        assert.equal(page.pageInfo.marker, marker ?? "");
        seen.push(...page.items.map((r) => r.id));
        if (!page.pageInfo.isTruncated) {
          assert.equal(page.pageInfo.nextMarker, undefined);
          break;
        }
        marker = page.pageInfo.nextMarker;
        assert.ok(pages < 2000, "runaway pagination");
      }
      return seen;
    };

    for (const maxKeys of [1, 7, 10, 100, 500]) {
      test(`1,000 rows, maxKeys ${maxKeys}: forward newest-first and reverse oldest-first, no duplicates, no gaps`, async () => {
        const forward = await walk(maxKeys, false);
        const backward = await walk(maxKeys, true);
        const expected = Array.from({ length: N }, (_, i) => `job-${String(i).padStart(12, "0")}`);
        assert.deepEqual(backward, expected);
        assert.deepEqual(forward, [...expected].reverse());
      });
    }

    test("filtered lists paginate within the filter", async () => {
      const only = await walk(13, false, "a");
      assert.equal(only.length, N / 2);
      assert.equal(new Set(only).size, N / 2);
    });

    test("a marker outside the filter, or unknown, is InvalidMarker", async () => {
      const q = store.db.selectFrom("finetune_jobs").selectAll().where("model", "=", "a");
      await assert.rejects(keysetPage(q, pageRequest({ marker: "job-000000000000" }), "finetune_jobs"),
        (e: unknown) => e instanceof SailfinError && e.id === "InvalidMarker");
      await assert.rejects(keysetPage(store.db.selectFrom("finetune_jobs").selectAll(), pageRequest({ marker: "job-nope" }), "finetune_jobs"),
        (e: unknown) => e instanceof SailfinError && e.id === "InvalidMarker");
    });

    test("maxKeys is clamped to 100 and defaults to 10; bad values are refused", () => {
      assert.equal(pageRequest({}).limit, 10);
      assert.equal(pageRequest({ maxKeys: 1000 }).limit, 100);
      assert.throws(() => pageRequest({ maxKeys: 0 }), SailfinError);
      assert.throws(() => pageRequest({ maxKeys: "5" }), SailfinError);
      assert.throws(() => pageRequest({ pageReverse: "yes" }), SailfinError);
    });

    test("migrations are idempotent: reopening applies nothing", async () => {
      const { migrate } = await import("@sailfin/store");
      const result = await migrate(store.db as never, store.dialect);
      assert.deepEqual(result.applied, []);
    });
  });
}

for (const dialect of testDialects()) {
  describe(`store: listings compiled once per shape (${dialect})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    const N = 60;
    before(async () => {
      ({ store, cleanup } = await freshStore(dialect));
      const now = new Date().toISOString();
      await store.db.insertInto("finetune_jobs").values(Array.from({ length: N }, (_, i) => ({
        id: `job-${String(i).padStart(12, "0")}`, name: `job ${i}`, description: "", model: ["a", "b", "c"][i % 3]!,
        train_mode: i % 2 ? "SFT" : "DPO", parameter_scale: null, base_train_type: "", created_at: now, modified_at: now,
      }))).execute();
    });
    after(async () => { await cleanup(); });

    test("keysetPageWhere answers what keysetPage answers, for every filter, marker, maxKeys and direction", async () => {
      const filters: Array<{ model?: string; train_mode?: string }> = [{}, { model: "b" }, { train_mode: "SFT" }, { model: "c", train_mode: "DPO" }];
      // Markers: none, rows inside and outside each filter, the newest and the oldest row.
      const markers = [undefined, "job-000000000000", "job-000000000007", "job-000000000030", "job-000000000059"];
      let compared = 0;
      for (const filter of filters) {
        for (const marker of markers) {
          for (const maxKeys of [1, 4, 10, 100]) {
            for (const pageReverse of [false, true]) {
              const request = pageRequest({ marker, maxKeys, pageReverse });
              let q = store.db.selectFrom("finetune_jobs").selectAll();
              if (filter.model !== undefined) q = q.where("model", "=", filter.model);
              if (filter.train_mode !== undefined) q = q.where("train_mode", "=", filter.train_mode);
              const expected = await keysetPage(q, request, "finetune_jobs").catch((e: unknown) => e);
              const actual = await keysetPageWhere(store.db, "finetune_jobs", { model: filter.model, train_mode: filter.train_mode }, request)
                .catch((e: unknown) => e);
              if (expected instanceof SailfinError) {
                assert.ok(actual instanceof SailfinError, `${JSON.stringify({ filter, marker, maxKeys, pageReverse })} should fail`);
                assert.equal(actual.id, expected.id);
              } else {
                assert.deepEqual(actual, expected, JSON.stringify({ filter, marker, maxKeys, pageReverse }));
                compared += 1;
              }
            }
          }
        }
      }
      assert.equal(compared, 88, "pages compared (the rest are markers outside their filter, refused by both)");
    });

    test("CompiledQueries builds a shape once and binds each call's values", async () => {
      const queries = new CompiledQueries();
      let builds = 0;
      const byModel = (model: string) => queries.execute<{ id: string }>(store.db, "by-model", { model }, (param) => {
        builds += 1;
        return store.db.selectFrom("finetune_jobs").select("id").where("model", "=", param("model")).orderBy("num", "asc").limit(2);
      });
      assert.deepEqual((await byModel("a")).map((r) => r.id), ["job-000000000000", "job-000000000003"]);
      assert.deepEqual((await byModel("b")).map((r) => r.id), ["job-000000000001", "job-000000000004"]);
      assert.deepEqual(await byModel("nope"), []);
      assert.equal(builds, 1);
      assert.deepEqual(queries.stats(), { compiles: 1 });
      // A value the call does not give is an error, never a placeholder sent to the database.
      await assert.rejects(queries.execute(store.db, "by-model", {}, () => assert.fail("not rebuilt")), /no value for model/);
    });

    test("CompiledQueries drops the least recently used shape past its limit", async () => {
      const queries = new CompiledQueries(2);
      const run = (key: string, limit: number) => queries.execute(store.db, key, {}, () =>
        store.db.selectFrom("finetune_jobs").select("id").orderBy("num", "asc").limit(limit));
      assert.equal((await run("one", 1)).length, 1);
      await run("two", 2);
      await run("one", 1); // "one" is now the most recent: "two" goes first
      await run("three", 3);
      assert.equal(queries.stats().compiles, 3);
      assert.equal((await run("one", 1)).length, 1);
      assert.equal(queries.stats().compiles, 3);
      assert.equal((await run("two", 2)).length, 2);
      assert.equal(queries.stats().compiles, 4);
    });
  });
}

for (const dialect of testDialects()) {
  describe(`store: migration 0006 on runs as 0005 left them (${dialect})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => { ({ store, cleanup } = await freshStore(dialect)); });
    after(async () => { await cleanup(); });

    test("an export's evaluation moves to reads_run_num, and work runs' train_mode no longer holds their kind", async () => {
      const db = store.db;
      const evalNum = await enqueueRun(db, ADMIN, { id: "ame-m6", kind: "evaluate", name: "e", spec: {} });
      const exportNum = await enqueueRun(db, ADMIN, { id: "amemt-m6", kind: "eval-export", name: "x", spec: {} });
      const compressNum = await enqueueRun(db, ADMIN, { id: "amva-m6", kind: "compress", name: "c", spec: {} });
      const tunedNum = await enqueueRun(db, ADMIN, { id: "task-m6a", kind: "finetune", jobNum: 1, trainMode: "SFT", parameterScale: "LoRA", spec: {} });
      const incrementNum = await enqueueRun(db, ADMIN, {
        id: "task-m6b", kind: "finetune", jobNum: 1, trainMode: "DPO", parameterScale: "LoRA", spec: {}, increment: { runNum: tunedNum, step: 4 },
      });
      const publishNum = await enqueueRun(db, ADMIN, { id: "publish-m6", kind: "publish", jobNum: 1, trainMode: "SFT", parameterScale: "LoRA", spec: {} });
      // What 0005 left: the kind in train_mode, an export's evaluation in increment_run_num, no reads_run_num.
      for (const num of [evalNum, exportNum, compressNum]) {
        const row = await db.selectFrom("runs").select("kind").where("num", "=", num).executeTakeFirstOrThrow();
        await db.updateTable("runs").set({ train_mode: row.kind }).where("num", "=", num).execute();
      }
      await db.updateTable("runs").set({ increment_run_num: evalNum }).where("num", "=", exportNum).execute();
      const raw = db as unknown as Kysely<any>;
      await raw.schema.alterTable("runs").dropColumn("reads_run_num").execute();
      await raw.deleteFrom("sailfin_migrations").where("name", "=", "0006-run-references").execute();

      assert.deepEqual((await migrate(raw, store.dialect)).applied, ["0006-run-references"]);
      const rows = await db.selectFrom("runs").select(["num", "train_mode", "increment_run_num", "increment_step", "reads_run_num"])
        .orderBy("num").execute();
      const byNum = new Map(rows.map((r) => [Number(r.num), {
        trainMode: r.train_mode, increment: r.increment_run_num === null ? null : Number(r.increment_run_num),
        step: r.increment_step, reads: r.reads_run_num === null ? null : Number(r.reads_run_num),
      }]));
      assert.deepEqual(byNum.get(evalNum), { trainMode: "", increment: null, step: null, reads: null });
      assert.deepEqual(byNum.get(exportNum), { trainMode: "", increment: null, step: null, reads: evalNum });
      assert.deepEqual(byNum.get(compressNum), { trainMode: "", increment: null, step: null, reads: null });
      assert.deepEqual(byNum.get(tunedNum), { trainMode: "SFT", increment: null, step: null, reads: null });
      assert.deepEqual(byNum.get(incrementNum), { trainMode: "DPO", increment: tunedNum, step: 4, reads: null });
      assert.deepEqual(byNum.get(publishNum), { trainMode: "SFT", increment: null, step: null, reads: null });
    });
  });
}

for (const dialect of testDialects()) {
  describe(`store: migration 0007 on dataset versions as 0006 left them (${dialect})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => { ({ store, cleanup } = await freshStore(dialect)); });
    after(async () => { await cleanup(); });

    test("the V1 import and release codes become the version's state, in its events' words", async () => {
      const raw = store.db as unknown as Kysely<any>;
      const now = new Date().toISOString();
      const group = await raw.insertInto("dataset_groups").values({
        id: "ds-m7group", name: "m7", data_format: "prompt-response", project_type: 20, template_type: 2000, data_type: 4,
        storage_type: "sysStorage", storage_path: "", created_at: now, modified_at: now,
      }).returning("num").executeTakeFirstOrThrow();
      // [import code, release code] as 0006 left them, and the state each becomes.
      const cases: [number, number, string][] = [
        [-1, 0, "Created"], [0, 0, "Created"], [1, 0, "Importing"], [2, 0, "Imported"], [3, 0, "ImportFailed"], [4, 0, "ImportFailed"], [2, 2, "Released"],
      ];
      for (let i = 0; i < cases.length; i++) {
        await raw.insertInto("dataset_versions").values({
          id: `ds-m7v${i}`, group_num: group.num, version: i + 1, description: "", state: "Created", import_progress: 0,
          record_count: 0, char_count: 0, byte_size: 0, error_count: 0, created_at: now, modified_at: now,
        }).execute();
      }
      // What 0006 left: the codes in import_status and release_status (NOT NULL there; nullable
      // here, as SQLite adds a NOT NULL column only with a default), no state.
      await raw.schema.alterTable("dataset_versions").addColumn("import_status", "integer").execute();
      await raw.schema.alterTable("dataset_versions").addColumn("release_status", "integer").execute();
      for (const [i, [importCode, releaseCode]] of cases.entries()) {
        await raw.updateTable("dataset_versions").set({ import_status: importCode, release_status: releaseCode }).where("id", "=", `ds-m7v${i}`).execute();
      }
      await raw.schema.alterTable("dataset_versions").dropColumn("state").execute();
      await raw.deleteFrom("sailfin_migrations").where("name", "=", "0007-dataset-version-state").execute();

      assert.deepEqual((await migrate(raw, store.dialect)).applied, ["0007-dataset-version-state"]);
      const rows = await raw.selectFrom("dataset_versions").selectAll().orderBy("version").execute();
      assert.deepEqual(rows.map((r) => r.state), cases.map(([, , state]) => state));
      assert.equal("import_status" in rows[0]! || "release_status" in rows[0]!, false, "the code columns are gone");
    });
  });
}
