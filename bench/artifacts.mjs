#!/usr/bin/env node
// Artifact store throughput: upload (`put`) and download (`get`, read to the end) MB/s of one
// large object, S3ArtifactStore on a real SeaweedFS server against LocalArtifactStore, in one run.
// Runs the BUILT code (`npx tsc -b` first); SeaweedFS comes from scripts/setup-seaweedfs.sh
// (started by the tests' fixture, on this machine). See bench/README.md.
//
//   node bench/artifacts.mjs              # BENCH_MB (256) MB, BENCH_ROUNDS (3) rounds
//
// The body is one 1 MiB random buffer sent BENCH_MB times (streamed, never whole in memory):
// random so that nothing compresses it, reused so that making it costs no CPU. The stores take
// turns each round, so that other work on the machine weighs on both alike; the median is shown.

import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { LocalArtifactStore, S3ArtifactStore } from "@sailfin/engine";
import { startS3Server } from "../tests/dist/fixtures/s3-server.js";

const MB = Number(process.env.BENCH_MB ?? 256);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RESULTS = new URL("./results/artifacts.md", import.meta.url);
const MiB = 1024 * 1024;
const chunk = randomBytes(MiB);

function body() {
  return Readable.from((function* () {
    for (let i = 0; i < MB; i++) yield chunk;
  })());
}

async function drain(stream) {
  let bytes = 0;
  for await (const part of stream) bytes += part.length;
  return bytes;
}

async function timed(action) {
  const started = process.hrtime.bigint();
  await action();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const root = await mkdtemp(join(tmpdir(), "sailfin-bench-artifacts-"));
const s3 = await startS3Server("bench");
try {
  const stores = {
    "local folder": new LocalArtifactStore(root),
    "S3 (SeaweedFS)": new S3ArtifactStore({
      bucket: s3.bucket, prefix: "bench/", endpoint: s3.endpoint, region: s3.region,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    }),
  };
  const seconds = Object.fromEntries(Object.keys(stores).map((name) => [name, { up: [], down: [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, store] of Object.entries(stores)) {
      const key = `bench/object-${round}.bin`;
      seconds[name].up.push(await timed(async () => {
        const put = await store.put(key, body());
        if (put.size !== MB * MiB) throw new Error(`${name}: stored ${put.size} bytes`);
      }));
      seconds[name].down.push(await timed(async () => {
        const read = await drain(await store.get(key));
        if (read !== MB * MiB) throw new Error(`${name}: read ${read} bytes`);
      }));
      await store.delete(key);
    }
  }
  const rows = Object.entries(seconds).map(([name, s]) =>
    `| ${name} | ${(MB / median(s.up)).toFixed(0)} | ${(MB / median(s.down)).toFixed(0)} |`);
  const table = [
    `${MB} MiB object, median of ${ROUNDS} rounds; ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), load average ${loadavg()[0].toFixed(1)} at the end`,
    "",
    "| store | upload MiB/s | download MiB/s |",
    "| --- | ---: | ---: |",
    ...rows,
    "",
  ].join("\n");
  process.stdout.write(table);
  await writeFile(RESULTS, table);
} finally {
  await s3.close();
  await rm(root, { recursive: true, force: true });
}
