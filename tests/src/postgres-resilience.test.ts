import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { sql } from "kysely";
import { startTestServer, testDialects, v2Raw, type TestServer } from "./harness.js";

/**
 * PostgreSQL terminating the server's idle connections (a restart, an admin, a failover) must
 * not take the server down: the pool drops the dead clients and the next request reconnects.
 */
if (testDialects().includes("postgres")) {
  describe("PostgreSQL connection loss", () => {
    let server: TestServer;
    before(async () => { server = await startTestServer("postgres"); });
    after(async () => { await server.close(); });

    test("the server survives pg_terminate_backend of its idle connections", async () => {
      for (let i = 0; i < 3; i++) assert.equal((await v2Raw(server, "iam", "DescribeAccessKeys", {})).status, 200);
      const { rows } = await sql<{ name: string }>`select current_database() as name`.execute(server.server.res.db);
      const admin = new pg.Client({ connectionString: process.env.SAILFIN_TEST_PG_URL ?? "postgres://sailfin:sailfin@127.0.0.1:5432/sailfin" });
      await admin.connect();
      const killed = await admin.query(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
        [rows[0]!.name],
      );
      await admin.end();
      assert.ok(killed.rowCount! >= 1, "the server had idle connections to terminate");
      await new Promise((resolve) => setTimeout(resolve, 200));
      // The first request may meet a connection that died mid-flight; the server keeps serving.
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await v2Raw(server, "iam", "DescribeAccessKeys", {})).status);
      assert.equal(statuses.at(-1), 200, `statuses after the loss: ${statuses.join(",")}`);
    });
  });
}
