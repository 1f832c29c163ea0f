import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { newId, nowIso } from "@sailfin/contract";
import { startTestServer, testDialects, v2Raw, type TestServer } from "./harness.js";

/**
 * 1,000 objects listed through the signed API, forward (newest first) and reverse, with several
 * page sizes: every object exactly once, in order, and pageInfo as Qianfan shapes it.
 * The jobs are inserted as rows: what is under test is the listing, not job creation.
 */
for (const dialect of testDialects()) {
  describe(`pagination through DescribeFineTuningJobs, 1,000 jobs (${dialect})`, () => {
    let server: TestServer;
    const ids: string[] = [];
    before(async () => {
      server = await startTestServer(dialect);
      const now = nowIso();
      const rows = Array.from({ length: 1000 }, (_, i) => {
        const id = newId("job");
        ids.push(id);
        return { id, name: `job-${i}`, description: "", model: "m", train_mode: "SFT", parameter_scale: null, base_train_type: "m", created_at: now, modified_at: now };
      });
      for (let i = 0; i < rows.length; i += 200) await server.server.res.db.insertInto("finetune_jobs").values(rows.slice(i, i + 200)).execute();
    });
    after(async () => { await server.close(); });

    const walk = async (maxKeys: number, pageReverse: boolean) => {
      const seen: string[] = [];
      let marker: string | undefined;
      for (let page = 0; page < 1100; page++) {
        const r = await v2Raw(server, "finetuning", "DescribeFineTuningJobs", { maxKeys, pageReverse, ...(marker ? { marker } : {}) });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        const { jobList, pageInfo } = r.body.result;
        assert.equal(pageInfo.marker, marker ?? "");
        assert.equal(pageInfo.maxKeys, Math.min(maxKeys, 100));
        seen.push(...jobList.map((j: { jobId: string }) => j.jobId));
        if (!pageInfo.isTruncated) {
          assert.ok(!("nextMarker" in pageInfo), "nextMarker only when truncated");
          return seen;
        }
        marker = pageInfo.nextMarker;
      }
      throw new Error("pagination did not end");
    };

    for (const maxKeys of [100, 37, 1000]) {
      test(`maxKeys ${maxKeys}: forward and reverse, no duplicates, no gaps`, async () => {
        assert.deepEqual(await walk(maxKeys, true), ids);
        assert.deepEqual(await walk(maxKeys, false), [...ids].reverse());
      });
    }
  });
}
