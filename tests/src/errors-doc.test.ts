import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { ERRORS, type ErrorId, type ErrorSpec } from "@sailfin/contract";

/**
 * docs/errors.md and the error catalog (`ERRORS`) agree: every entry is listed once, with the
 * HTTP status, V2 code, V1 error_code and V1 HTTP status the server renders it with, and a
 * meaning; nothing is listed that the catalog lacks.
 */

const DOC = new URL("../../docs/errors.md", import.meta.url);
const HEADER = "| Error | HTTP | V2 code | V1 error_code | V1 HTTP | Meaning |";

interface DocRow {
  readonly id: string;
  readonly http: number;
  readonly v2Code: string;
  readonly v1Code: number;
  readonly v1Http: number;
  readonly meaning: string;
  readonly line: number;
}

/** The table's rows (a first cell that is a backticked name); a row of another shape is an error. */
function parseErrorsDoc(text: string): DocRow[] {
  const lines = text.split("\n");
  assert.ok(lines.includes(HEADER), `docs/errors.md has no table headed ${HEADER}`);
  const rows: DocRow[] = [];
  for (const [i, line] of lines.entries()) {
    if (!line.startsWith("| `")) continue;
    const cells = line.split("|").slice(1, -1).map((cell) => cell.trim());
    const id = /^`(\w+)`$/.exec(cells[0] ?? "")?.[1];
    const v2Code = /^`(\w+)`$/.exec(cells[2] ?? "")?.[1];
    const [http, v1Code, v1Http] = [cells[1], cells[3], cells[4]].map((cell) => (/^\d+$/.test(cell ?? "") ? Number(cell) : NaN));
    if (cells.length !== 6 || id === undefined || v2Code === undefined || [http, v1Code, v1Http].some(Number.isNaN)) {
      throw new Error(`docs/errors.md:${i + 1}: expected ${HEADER} with \`names\` and numbers, got: ${line}`);
    }
    rows.push({ id, http: http!, v2Code, v1Code: v1Code!, v1Http: v1Http!, meaning: cells[5]!, line: i + 1 });
  }
  return rows;
}

/** V1 answers a business error with HTTP 200; a gateway error keeps its status (render.ts). */
function v1Http(spec: ErrorSpec): number {
  return spec.gateway === true ? spec.http : 200;
}

describe("docs/errors.md matches the error catalog", () => {
  let text: string;
  let parsed: DocRow[] | undefined;
  const catalog = Object.entries(ERRORS) as Array<[ErrorId, ErrorSpec]>;
  before(async () => {
    text = await readFile(DOC, "utf8");
  });
  /** Parsed on first use, so that a malformed row fails the tests with its line. */
  const docRows = (): DocRow[] => (parsed ??= parseErrorsDoc(text));

  test("no error is listed twice", () => {
    const seen = new Map<string, number>();
    for (const row of docRows()) {
      assert.equal(seen.get(row.id), undefined, `${row.id} is listed on lines ${seen.get(row.id)} and ${row.line}`);
      seen.set(row.id, row.line);
    }
  });

  test("every catalog entry is listed with its statuses and codes", () => {
    const listed = new Map(docRows().map((row) => [row.id, row]));
    for (const [id, spec] of catalog) {
      const row = listed.get(id);
      assert.ok(row, `${id} is in the catalog but not in docs/errors.md`);
      assert.deepEqual(
        { http: row.http, v2Code: row.v2Code, v1Code: row.v1Code, v1Http: row.v1Http },
        { http: spec.http, v2Code: spec.v2Code, v1Code: spec.v1Code, v1Http: v1Http(spec) },
        `docs/errors.md:${row.line}: ${id}`,
      );
    }
  });

  test("every listed error is in the catalog, and says what it means", () => {
    const ids = new Set<string>(catalog.map(([id]) => id));
    for (const row of docRows()) {
      assert.ok(ids.has(row.id), `docs/errors.md:${row.line}: ${row.id} is not in the catalog (packages/contract/src/errors.ts)`);
      assert.notEqual(row.meaning, "", `docs/errors.md:${row.line}: say what ${row.id} means`);
    }
  });

  test("the checks see the catalog: both sides are non-empty and the same size", () => {
    assert.ok(catalog.length > 0);
    assert.equal(docRows().length, catalog.length);
  });
});
