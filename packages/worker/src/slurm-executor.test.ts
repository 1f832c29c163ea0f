import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { slurmBatchScript } from "./slurm-executor.js";

/**
 * The batch script for several nodes, run by bash outside a cluster: the one-node cluster the
 * Slurm tests use cannot start a job on 2 nodes, so what srun would give each task is played by a
 * stand-in `srun` on PATH (the tasks' SLURM_* variables), while the real `scontrol show hostnames`
 * expands the node list (it needs a slurm.conf, not a controller).
 */

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sailfin-slurm-script-"));
  await writeFile(join(dir, "slurm.conf"), "ClusterName=unit\nSlurmctldHost=localhost\n");
  // srun for a job of 2 nodes × 2 tasks: drops its own options, then runs the command once per
  // task with the variables srun sets (task ids in node order, as srun's default block distribution).
  await writeFile(join(dir, "srun"), [
    "#!/bin/bash",
    "while [[ $1 == --* ]]; do shift; done",
    "for id in 0 1 2 3; do SLURM_PROCID=$id SLURM_LOCALID=$((id % 2)) SLURM_NTASKS=4 SLURM_NODEID=$((id / 2)) \"$@\"; done",
    "",
  ].join("\n"));
  await chmod(join(dir, "srun"), 0o755);
});
after(() => rm(dir, { recursive: true, force: true }));

/** Runs a batch script as slurmd would on the job's first node. */
function runScript(script: string, env: Record<string, string>) {
  const path = join(dir, "job.sbatch");
  spawnSync("bash", ["-c", `cat > ${path}`], { input: script });
  return spawnSync("bash", [path], {
    encoding: "utf8",
    env: { PATH: `${dir}:${process.env.PATH}`, SLURM_CONF: join(dir, "slurm.conf"), SLURM_JOB_ID: "4321", SLURM_JOB_NODELIST: "node[07-08]", ...env },
  });
}

/** A "runtime" that prints what a rank sees. */
const SHOW_RANK = ["bash", "-c", 'echo "rank=$RANK world=$WORLD_SIZE local=$LOCAL_RANK master=$MASTER_ADDR:$MASTER_PORT threads=$OMP_NUM_THREADS"'];

describe("Slurm batch script", () => {
  test("--nodes=2: each srun task is a rank (RANK from SLURM_PROCID), all meeting at the first node of SLURM_JOB_NODELIST", () => {
    const script = slurmBatchScript({ nodes: 2, tasksPerNode: 2, pythonPath: "/srv/runtime", runtime: SHOW_RANK });
    assert.match(script, /^export MASTER_ADDR="\$\(scontrol show hostnames "\$SLURM_JOB_NODELIST" \| head -n 1\)"$/m);
    assert.match(script, /^srun --kill-on-bad-exit=1 --output=0 --error=all bash -c 'RANK=\$SLURM_PROCID WORLD_SIZE=\$SLURM_NTASKS LOCAL_RANK=\$SLURM_LOCALID exec "\$@"' sailfin-rank /m);
    const ran = runScript(script, {});
    assert.equal(ran.status, 0, ran.stderr);
    assert.deepEqual(ran.stdout.trim().split("\n"), [0, 1, 2, 3].map((rank) =>
      `rank=${rank} world=4 local=${rank % 2} master=node07:${20000 + (4321 % 20000)} threads=1`));
  });

  test("one task: the runtime alone, no rank variables", () => {
    const script = slurmBatchScript({ nodes: 1, tasksPerNode: 1, pythonPath: "/srv/runtime", runtime: ["python3", "-m", "sailfin_runtime", "finetune", "--spec", "/a b/spec.json"] });
    assert.doesNotMatch(script, /MASTER_ADDR|RANK=/);
    assert.match(script, /^srun --kill-on-bad-exit=1 'python3' '-m' 'sailfin_runtime' 'finetune' '--spec' '\/a b\/spec.json' &$/m);
  });

  test("a run Slurm restarts (requeued) exits at once without starting the ranks, saying why on stderr", () => {
    const script = slurmBatchScript({ nodes: 2, tasksPerNode: 2, pythonPath: "/srv/runtime", runtime: SHOW_RANK });
    const ran = runScript(script, { SLURM_RESTART_COUNT: "1" });
    assert.equal(ran.status, 0);
    assert.equal(ran.stdout, "", "no events from a restarted run");
    assert.match(ran.stderr, /requeued by Slurm \(restart 1\): not rerun/);
  });
});
