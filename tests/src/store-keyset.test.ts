import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pageRequest, SailfinError } from "@sailfin/contract";
import { keysetPage, openStore, type Store } from "@sailfin/store";
import { createTestDatabase, testDialects, type TestDialect } from "./harness.js";

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
