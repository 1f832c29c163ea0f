import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { ValidationCollector, validateJsonl } from "./validate-jsonl.js";
import { readLines } from "./line-reader.js";

/** A stream that delivers `text` in chunks of `size` bytes (splitting UTF-8 sequences too). */
function chunked(text: string | Buffer, size: number): Readable {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
}

const good = (q: string, a: string) => JSON.stringify([{ prompt: q, response: [[a]] }]);

describe("readLines", () => {
  test("LF, CRLF, missing final newline, chunk boundaries anywhere", async () => {
    for (const size of [1, 2, 3, 7, 1000]) {
      const lines = [];
      for await (const l of readLines(chunked("a\r\nbb\n\nccc", size))) lines.push([l.number, l.bytes.toString(), l.size]);
      assert.deepEqual(lines, [[1, "a\r", 3], [2, "bb", 3], [3, "", 1], [4, "ccc", 3]], `chunk size ${size}`);
    }
  });
  test("a line over the limit is reported, not buffered, and reading resumes after it", async () => {
    const lines = [];
    for await (const l of readLines(chunked(`ok\n${"x".repeat(100)}\nok2`, 8), { maxLineBytes: 10 })) lines.push([l.number, l.tooLong, l.bytes.toString(), l.size]);
    assert.deepEqual(lines, [[1, false, "ok", 3], [2, true, "", 101], [3, false, "ok2", 3]]);
  });
});

describe("validateJsonl", () => {
  test("a clean file: counts records, characters and bytes; BOM, CRLF, blank lines and no final newline", async () => {
    const text = `\ufeff${good("你好", "你好！")}\r\n\r\n${good("Q", "A")}\r\n   \n${good("问题", "答案")}`;
    for (const size of [1, 5, 64 * 1024]) {
      const report = await validateJsonl(chunked(text, size), "PromptResponse");
      assert.equal(report.records, 3);
      assert.equal(report.characters, 5 + 2 + 4);
      assert.equal(report.bytes, Buffer.byteLength(text));
      assert.equal(report.blankLines, 2);
      assert.equal(report.errorCount, 0);
      assert.deepEqual(report.errors, []);
    }
  });

  test("every bad line is reported with its number, field and reason", async () => {
    const lines = [
      good("Q1", "A1"),
      "not json",
      JSON.stringify([{ prompt: "Q", response: [["A"], ["B"]] }]),
      good("Q4", "A4"),
      JSON.stringify([{ prompt: "Q", response: [["A"]] }, { prompt: "", response: [["B"]] }]),
      JSON.stringify({ prompt: "Q", response: [["A"]] }),
      JSON.stringify([{ prompt: "中文", response: [[""]] }]),
    ];
    const report = await validateJsonl(chunked(lines.join("\n"), 4), "PromptResponse");
    assert.equal(report.records, 2);
    assert.equal(report.errorCount, 5);
    assert.deepEqual(report.errors.map((e) => [e.line, e.field]), [
      [2, "$"], [3, "[0].response"], [5, "[1].prompt"], [6, "$"], [7, "[0].response[0][0]"],
    ]);
    assert.match(report.errors[0]!.reason, /not valid JSON/);
    assert.match(report.errors[1]!.reason, /exactly one answer/);
  });

  test("keeps the first 100 errors and counts the rest", async () => {
    const text = Array.from({ length: 250 }, (_, i) => (i % 2 === 0 ? "{" : good("Q", "A"))).join("\n");
    const report = await validateJsonl(Readable.from([text]), "PromptResponse");
    assert.equal(report.errorCount, 125);
    assert.equal(report.errors.length, 100);
    assert.equal(report.truncated, 25);
    assert.equal(report.errors[99]!.line, 199);
  });

  test("invalid UTF-8 and a BOM on a later line are errors", async () => {
    const bytes = Buffer.concat([Buffer.from(`${JSON.stringify({ text: "ok" })}\n`), Buffer.from([0x7b, 0xff, 0x7d, 0x0a]), Buffer.from(`\ufeff${JSON.stringify({ text: "x" })}\n`)]);
    const report = await validateJsonl(chunked(bytes, 3), "Text");
    assert.deepEqual(report.errors.map((e) => [e.line, e.field]), [[2, "$"], [3, "$"]]);
    assert.match(report.errors[0]!.reason, /UTF-8/);
  });

  test("the collector yields the valid records as normalised JSONL and spans files", async () => {
    const collector = new ValidationCollector("Messages");
    const m = (q: string) => JSON.stringify({ messages: [{ role: "user", content: q }, { role: "assistant", content: "好" }] });
    const out: Buffer[] = [];
    for await (const c of collector.validate(chunked(`\ufeff${m("一")}\r\n{bad}\r\n${m("二")}`, 2), "a.jsonl")) out.push(c);
    for await (const c of collector.validate(chunked(`${m("三")}\n`, 2), "b.jsonl")) out.push(c);
    assert.equal(Buffer.concat(out).toString(), `${m("一")}\n${m("二")}\n${m("三")}\n`);
    const report = collector.report();
    assert.equal(report.records, 3);
    assert.deepEqual(report.errors, [{ file: "a.jsonl", line: 2, field: "$", reason: report.errors[0]!.reason }]);
  });

  test("memory stays flat: 200,000 lines stream through without being held", async () => {
    const line = `${good("这是一个问题", "这是一个回答")}\n`;
    async function* many() {
      for (let i = 0; i < 200_000; i++) yield line;
    }
    setFlagsFromString("--expose_gc");
    const gc = runInNewContext("gc") as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    const collector = new ValidationCollector("PromptResponse");
    let peak = 0;
    let n = 0;
    for await (const chunk of collector.validate(many())) {
      void chunk;
      if (++n % 50 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - before);
      }
    }
    const report = collector.report();
    assert.equal(report.records, 200_000);
    assert.equal(report.bytes, Buffer.byteLength(line) * 200_000);
    // The input is ~14 MB; a validator holding it would grow the heap by far more than 10 MB.
    assert.ok(n > 100);
    assert.ok(peak < 4 * 1024 * 1024, `heap grew by ${peak} bytes`);
  });
});
