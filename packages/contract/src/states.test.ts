import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { STATE_WORD, SailfinError } from "./errors.js";
import {
  DATASET_VERSION_STATES, RUN_KINDS, RUN_STATUSES, runStateWord,
  v1DatasetImportStatus, v1DatasetReleaseStatus, v2DatasetImportStatus, v2DatasetPublishStatus,
} from "./states.js";

describe("runStateWord", () => {
  test("each kind in each dialect says what its describe call says", () => {
    const word = (dialect: "v1" | "v2", kind: (typeof RUN_KINDS)[number], status: (typeof RUN_STATUSES)[number], extra: { cancelRequested?: boolean; partly?: boolean } = {}) =>
      runStateWord(dialect, { kind, status, cancelRequested: extra.cancelRequested ?? false, partly: extra.partly ?? false });
    assert.deepEqual(RUN_STATUSES.map((s) => word("v2", "finetune", s)), ["Waiting", "Running", "Paused", "Done", "Failed", "Stopped"]);
    assert.deepEqual(RUN_STATUSES.map((s) => word("v1", "finetune", s)), ["RUNNING", "RUNNING", "RUNNING", "FINISH", "FAIL", "STOP"]);
    assert.deepEqual(RUN_STATUSES.map((s) => word("v1", "evaluate", s)), ["Pending", "Doing", "Pending", "Done", "Fail", "Stopped"]);
    assert.equal(word("v1", "evaluate", "Succeeded", { partly: true }), "PartlyDone");
    assert.deepEqual(RUN_STATUSES.map((s) => word("v2", "evaluate", s)), ["Queued", "Running", "Queued", "Successed", "Failed", "Stopped"]);
    assert.equal(word("v2", "evaluate", "Running", { cancelRequested: true }), "Stopping");
    assert.deepEqual(RUN_STATUSES.map((s) => word("v2", "compress", s)), ["creating", "running", "creating", "succeeded", "failed", "stopped"]);
    assert.deepEqual(RUN_STATUSES.map((s) => word("v1", "eval-export", s)), ["Pending", "Uploading", "Pending", "Done", "Fail", "Fail"]);
    assert.deepEqual(RUN_STATUSES.map((s) => word("v2", "publish", s)), ["Creating", "Creating", "Creating", "Ready", "Fail", "Fail"]);
  });

  test("a SailfinError naming a state renders each dialect's word; the log message keeps the internal status", () => {
    const error = new SailfinError("Conflict", {
      field: "taskId", detail: `task task-1 has already finished (${STATE_WORD}); there is nothing to stop`,
      state: { kind: "finetune", status: "Succeeded", cancelRequested: false },
    });
    assert.equal(error.v1Message, "param[taskId] invalid: task task-1 has already finished (FINISH); there is nothing to stop");
    assert.match(error.v2Message, /: task task-1 has already finished \(Done\); there is nothing to stop$/);
    assert.match(error.message, /\(Succeeded\)/);
    const plain = new SailfinError("Conflict", { detail: `a literal ${STATE_WORD} without a state stays as it is` });
    assert.match(plain.v2Message, /a literal \{state\} without/);
  });
});

describe("dataset version state", () => {
  test("each dialect renders the stored word as its import and release status", () => {
    // Created, Importing, Imported, ImportFailed, Released.
    assert.deepEqual(DATASET_VERSION_STATES.map(v1DatasetImportStatus), [-1, 1, 2, 3, 2]);
    assert.deepEqual(DATASET_VERSION_STATES.map(v1DatasetReleaseStatus), [0, 0, 0, 0, 2]);
    assert.deepEqual(DATASET_VERSION_STATES.map(v2DatasetImportStatus), ["NotStarted", "Running", "Finished", "Failed", "Finished"]);
    assert.deepEqual(DATASET_VERSION_STATES.map(v2DatasetPublishStatus), ["Unpublished", "Unpublished", "Unpublished", "Unpublished", "Published"]);
  });
});
