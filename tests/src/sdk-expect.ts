import assert from "node:assert/strict";

/**
 * Wire-shape checks shared by the official-SDK tests, written from the Qianfan reference
 * (design/qianfan-api.md §1.4, §6.2, seed 001 for the job list, seed 000 for V1 jobDetail).
 */

const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const SQL_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;

export function expectRequestId(body: any): void {
  assert.match(body.requestId, /^[0-9a-f-]{36}$/, "V2 bodies carry a requestId");
}

/** `pageInfo` as seed 001 shows it; `nextMarker` only when truncated. */
export function expectPageInfo(pageInfo: any, expected: { marker: string; maxKeys: number; isTruncated: boolean }): void {
  assert.equal(pageInfo.marker, expected.marker);
  assert.equal(pageInfo.maxKeys, expected.maxKeys);
  assert.equal(pageInfo.isTruncated, expected.isTruncated);
  if (expected.isTruncated) assert.equal(typeof pageInfo.nextMarker, "string");
  else assert.ok(pageInfo.nextMarker === undefined || pageInfo.nextMarker === "", "no nextMarker on the last page");
}

/** One `jobList[]` item of DescribeFineTuningJobs, field for field as in seed 001. */
export function expectJobItem(item: any, expected: { jobId: string; name: string; description: string; model: string; trainMode: string }): void {
  for (const key of ["jobId", "name", "description", "model", "trainMode"] as const) assert.equal(item[key], expected[key], key);
  assert.match(item.createTime, ISO_Z, "createTime is ISO-8601 UTC with Z and no fraction");
}

/** DescribeFineTuningTask result (reference §6.2.2). */
export function expectTask(task: any, expected: { taskId: string; jobId: string; runStatus: string; trainMode: string; parameterScale: string }): void {
  for (const key of ["taskId", "jobId", "runStatus", "trainMode", "parameterScale"] as const) assert.equal(task[key], expected[key], key);
  assert.equal(typeof task.jobName, "string");
  assert.equal(typeof task.model, "string");
  assert.match(task.createDate, ISO_Z);
  if (task.runStatus === "Running") assert.match(task.runProgress, /^\d{1,3}%$/, "runProgress keeps its % sign");
}

/** V1 jobDetail result (seed 000). */
export function expectV1JobDetail(detail: any, expected: { id: number; taskId: number; trainStatus: string }): void {
  assert.equal(detail.id, expected.id);
  assert.equal(detail.taskId, expected.taskId);
  assert.equal(detail.trainStatus, expected.trainStatus);
  for (const key of ["taskName", "trainType", "trainMode", "peftType", "vdlLink"]) assert.equal(typeof detail[key], "string", key);
  assert.match(detail.startTime, SQL_TIME);
  assert.match(detail.finishTime, SQL_TIME);
  assert.equal(detail.finishtime, undefined, "the seed's misspelt finishtime is not emitted");
  assert.equal(typeof detail.progress, "number");
}
