/**
 * CSV for result exports, as RFC 4180 writes it: CRLF line ends (after the last record too), a
 * field quoted when it holds a comma, a double quote, CR or LF, quotes doubled inside. The text
 * starts with a UTF-8 byte order mark, without which Excel reads the file as the local ANSI code
 * page and garbles Chinese; Python's csv module and pandas read it with encoding="utf-8-sig".
 *
 * Values are written as they are: no prefix against spreadsheet formulas ("=1+1"), because the
 * export is data (model predictions) that other programs read back and must get unchanged.
 */

const NEEDS_QUOTES = /[",\r\n]/;

function field(value: unknown): string {
  let text: string;
  if (value === null || value === undefined) text = "";
  else if (typeof value === "string") text = value;
  else if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") text = String(value);
  else if (value instanceof Date) text = value.toISOString();
  else text = JSON.stringify(value) ?? "";
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Renders a header and rows as CSV text (BOM first). null and undefined become empty fields,
 * dates ISO 8601, objects and arrays JSON.
 *
 * @example toCsv(["prompt", "metrics"], [["你好, world", { bleu4: 0.5 }]])
 * // '\uFEFFprompt,metrics\r\n"你好, world","{""bleu4"":0.5}"\r\n'
 */
export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const lines = [header, ...rows].map((row, i) => {
    if (i > 0 && row.length !== header.length) {
      throw new Error(`CSV row ${i} has ${row.length} fields; the header has ${header.length}`);
    }
    // A lone empty field would be an empty line, which readers skip or read as a row of zero fields.
    return row.length === 1 && field(row[0]) === "" ? '""' : row.map(field).join(",");
  });
  return `\uFEFF${lines.join("\r\n")}\r\n`;
}
