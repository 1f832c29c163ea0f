import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { toCsv } from "./csv.js";

describe("toCsv", () => {
  test("RFC 4180 quoting, CRLF, a BOM, and JSON for objects", () => {
    const csv = toCsv(
      ["id", "text", "score", "meta", "empty"],
      [
        [1, 'say "hi", then go', 0.5, { a: [1, "二"] }, null],
        [2, "line1\nline2", true, ["x"], undefined],
        [3, "纯中文", 10n, new Date(Date.UTC(2024, 0, 4)), ""],
      ],
    );
    assert.equal(
      csv,
      "\uFEFFid,text,score,meta,empty\r\n" +
        '1,"say ""hi"", then go",0.5,"{""a"":[1,""二""]}",\r\n' +
        '2,"line1\nline2",true,"[""x""]",\r\n' +
        "3,纯中文,10,2024-01-04T00:00:00.000Z,\r\n",
    );
    assert.equal(toCsv(["only"], [[""], ["x"]]), '\uFEFFonly\r\n""\r\nx\r\n', "a lone empty field stays a row");
    assert.throws(() => toCsv(["a", "b"], [[1]]), /row 1 has 1 fields; the header has 2/);
  });

  test("Python's csv module reads it back unchanged", () => {
    const rows = [["你好, \"世界\"", "多行\r\n回答", ""], ["a", "b", "c"]];
    const csv = toCsv(["x", "y", "z"], rows);
    // utf-8-sig drops the BOM, as pandas and Excel do; newline="" keeps the quoted CRLF intact.
    const script = "import csv, io, json, sys; print(json.dumps(list(csv.reader(io.StringIO(sys.stdin.buffer.read().decode('utf-8-sig'), newline='')))))";
    const parsed = JSON.parse(execFileSync("/usr/bin/python3", ["-c", script], { input: csv, encoding: "utf8" }));
    assert.deepEqual(parsed, [["x", "y", "z"], ...rows]);
  });
});
