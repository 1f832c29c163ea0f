import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { loadServerConfig, startServer } from "@sailfin/server";
import { ADMIN, startTestServer, testDialects } from "./harness.js";
import { releasedDataset } from "./fixtures/dataset-imports.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";

/**
 * What a server leaves in SAILFIN_HOME: owner-only modes whatever the umask (other local users
 * must not read datasets, models, the database or the keys), and no temporary file of a killed
 * writer surviving the next start (the live writers' are kept).
 */

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

/** Every folder and file below `root`, with its mode. */
async function modes(root: string): Promise<Array<{ path: string; dir: boolean; mode: number }>> {
  const out: Array<{ path: string; dir: boolean; mode: number }> = [];
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      out.push({ path: relative(root, path), dir: entry.isDirectory(), mode: await modeOf(path) });
      if (entry.isDirectory()) await walk(path);
    }
  };
  await walk(root);
  return out;
}

/** A server on a home of the test's choosing (SQLite), with the harness's admin pair. */
async function serveHome(home: string) {
  const config = loadServerConfig({
    flags: { port: "0", host: "127.0.0.1", home },
    env: { SAILFIN_ACCESS_KEY: ADMIN.accessKey, SAILFIN_SECRET_KEY: ADMIN.secretKey, SAILFIN_LOG_LEVEL: "silent" },
  });
  return startServer(config, () => {});
}

let work: string;
let tiny: TinyModelFolders;
before(async () => {
  // A permissive umask, as on many desktops: the server must not depend on the caller's.
  process.umask(0o022);
  work = await mkdtemp(join(tmpdir(), "sailfin-home-files-"));
  tiny = await writeTinyModels({ llama: TINY });
});
after(async () => {
  await tiny.remove();
  await rm(work, { recursive: true, force: true });
});

describe("SAILFIN_HOME files", () => {
  test("a new home is 0700; the database, keys, datasets, models and objects are 0600 in 0700 folders", async () => {
    const home = join(work, "new-home");
    const running = await serveHome(home);
    try {
      assert.equal(await modeOf(home), 0o700);
      assert.equal(await modeOf(join(home, "sailfin.db")), 0o600);
    } finally {
      await running.close();
    }
    process.umask(0o022);
    for (const dialect of testDialects()) {
      const server = await startTestServer(dialect);
      try {
        await stageFolder(server, tiny.dir("llama"), "hub", "llama");
        await importBaseModel(server, "private-model", { bucket: "hub", objectPath: "llama" });
        await releasedDataset(server, { name: "private-data", format: "PromptResponse" });
        await server.admin.uploadObject("inbox", "notes/a.txt", new TextEncoder().encode("secret"));
        await server.server.res.background.drain();
        const all = await modes(server.home);
        for (const kind of ["buckets/", "datasets/", "models/", ...(dialect === "sqlite" ? ["sailfin.db"] : [])]) {
          assert.ok(all.some((e) => e.path.startsWith(kind.replace(/\/$/, ""))), `${kind} was written`);
        }
        const loose = all.filter((e) => e.mode !== (e.dir ? 0o700 : 0o600)).map((e) => `${e.path} ${e.mode.toString(8)}`);
        assert.deepEqual(loose, [], "everything in the home is its owner's only");
      } finally {
        await server.close();
      }
    }
  });

  test("a start sweeps the .part files of stopped writers and keeps a live writer's", async () => {
    const home = join(work, "swept-home");
    const tmp = join(home, ".tmp");
    // A process that has exited: its folder is a killed writer's.
    const gone = spawn(process.execPath, ["-e", ""]);
    await new Promise((resolve) => gone.on("exit", resolve));
    const dead = join(tmp, `${hostname()}-${gone.pid}`);
    const live = join(tmp, `${hostname()}-${process.ppid}`);
    await mkdir(dead, { recursive: true });
    await mkdir(live, { recursive: true });
    await writeFile(join(dead, "killed.part"), Buffer.alloc(4096));
    await writeFile(join(live, "writing.part"), "fresh");
    await writeFile(join(live, "forgotten.part"), "old");
    await writeFile(join(tmp, "flat-old.part"), Buffer.alloc(1024));
    await writeFile(join(tmp, "flat-new.part"), "fresh");
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(join(tmp, "flat-old.part"), twoHoursAgo, twoHoursAgo);
    await utimes(join(live, "forgotten.part"), twoHoursAgo, twoHoursAgo);

    const running = await serveHome(home);
    try {
      const left = (await modes(tmp)).filter((e) => !e.dir).map((e) => e.path).sort();
      assert.deepEqual(left, [join(`${hostname()}-${process.ppid}`, "writing.part"), "flat-new.part"].sort());
      await assert.rejects(stat(dead), "the dead writer's folder is gone");
      // Writing still works after the sweep (each process has its own folder).
      await running.res.artifacts.put("buckets/b/after-sweep.txt", "ok");
      assert.equal((await running.res.artifacts.stat("buckets/b/after-sweep.txt"))?.size, 2);
    } finally {
      await running.close();
    }
  });
});
