import { formatPath } from "@sailfin/contract";
import { LineProblem } from "./formats/checks.js";
import { formatInfo, type DataFormat } from "./formats/index.js";
import { DEFAULT_MAX_LINE_BYTES, readLines } from "./line-reader.js";

/**
 * Streaming JSONL validation. Reads a byte stream line by line (memory stays flat whatever the
 * file size), checks each line against its format, and reports every bad line.
 *
 * Line rules, decided once:
 * - a line ends at `\n`; a trailing `\r` (CRLF files) is dropped; the last line needs no `\n`;
 * - a UTF-8 byte order mark is dropped from line 1 (each file's own line 1);
 * - blank (whitespace-only) lines are skipped and counted, not errors: editors and exports
 *   leave them at the end of files, and they carry no record. Line numbers still count them,
 *   so every reported number is the one an editor shows;
 * - bytes that are not UTF-8, text that is not JSON, and records of the wrong shape are errors.
 *
 * Field paths are JSON paths from the line's root (`[0].response[0][0]`, `messages[2].role`);
 * `$` is the whole line.
 */
interface LineError {
  /** The source file when several were imported together (as the caller named it). */
  readonly file?: string;
  /** 1-based line number within its file. */
  readonly line: number;
  readonly field: string;
  readonly reason: string;
}

export interface ValidationReport {
  /** Valid records. */
  readonly records: number;
  /** Unicode code points of the records' text fields. */
  readonly characters: number;
  /** Bytes read, line ends included. */
  readonly bytes: number;
  readonly blankLines: number;
  /** Invalid lines (all of them, including those not listed). */
  readonly errorCount: number;
  /** The first `maxErrors` invalid lines, in file order. */
  readonly errors: readonly LineError[];
  /** Invalid lines beyond `errors` (counted, not listed). */
  readonly truncated: number;
}

const MAX_REPORTED_ERRORS = 100;

interface ValidationOptions {
  readonly maxErrors?: number;
  readonly maxLineBytes?: number;
}

/**
 * Accumulates one report across one or more files of the same dataset.
 *
 * @example
 * const collector = new ValidationCollector("PromptResponse");
 * for await (const _ of collector.validate(stream)) {} // or pipe the yielded bytes somewhere
 * collector.report().errors // [{ line: 3, field: "[0].response", reason: "..." }]
 */
export class ValidationCollector {
  readonly format: DataFormat;
  readonly #check: (value: unknown) => number;
  readonly #maxErrors: number;
  readonly #maxLineBytes: number;
  #records = 0;
  #characters = 0;
  #bytes = 0;
  #blank = 0;
  #errorCount = 0;
  readonly #errors: LineError[] = [];

  constructor(format: DataFormat, options: ValidationOptions = {}) {
    this.format = format;
    this.#check = formatInfo(format).check;
    this.#maxErrors = options.maxErrors ?? MAX_REPORTED_ERRORS;
    this.#maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  /**
   * Validates one file. Yields the valid records as normalised JSONL (the line's own text, LF
   * ended, no BOM, no CR), batched into ~64 KiB buffers, so the caller can store the clean data
   * in the same pass. Blank and invalid lines are not yielded.
   */
  async *validate(source: AsyncIterable<Uint8Array | string>, file?: string): AsyncGenerator<Buffer> {
    const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    let batch: Buffer[] = [];
    let batchBytes = 0;
    for await (const raw of readLines(source, { maxLineBytes: this.#maxLineBytes })) {
      this.#bytes += raw.size;
      if (raw.tooLong) {
        this.#error(file, raw.number, "$", `line is longer than ${this.#maxLineBytes} bytes`);
        continue;
      }
      let bytes = raw.bytes;
      if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
      if (raw.number === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
      let text: string;
      try {
        text = decoder.decode(bytes);
      } catch {
        this.#error(file, raw.number, "$", "line is not valid UTF-8");
        continue;
      }
      if (text.trim() === "") {
        this.#blank++;
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        this.#error(file, raw.number, "$", `not valid JSON: ${(error as Error).message}`);
        continue;
      }
      let characters: number;
      try {
        characters = this.#check(value);
      } catch (error) {
        if (!(error instanceof LineProblem)) throw error;
        const field = formatPath(error.path);
        this.#error(file, raw.number, field === "" ? "$" : field, error.message);
        continue;
      }
      this.#records++;
      this.#characters += characters;
      batch.push(Buffer.from(`${text}\n`));
      batchBytes += bytes.length + 1;
      if (batchBytes >= 64 * 1024) {
        yield Buffer.concat(batch);
        batch = [];
        batchBytes = 0;
      }
    }
    if (batch.length > 0) yield Buffer.concat(batch);
  }

  #error(file: string | undefined, line: number, field: string, reason: string): void {
    this.#errorCount++;
    if (this.#errors.length < this.#maxErrors) this.#errors.push(file === undefined ? { line, field, reason } : { file, line, field, reason });
  }

  report(): ValidationReport {
    return {
      records: this.#records,
      characters: this.#characters,
      bytes: this.#bytes,
      blankLines: this.#blank,
      errorCount: this.#errorCount,
      errors: [...this.#errors],
      truncated: this.#errorCount - this.#errors.length,
    };
  }
}

/**
 * Validates one stream and returns the report (the valid records are discarded).
 *
 * @example
 * const report = await validateJsonl(createReadStream("train.jsonl"), "Messages");
 * if (report.errorCount > 0) console.log(report.errors[0]); // { line: 12, field: "messages[1].role", reason: "..." }
 */
export async function validateJsonl(
  source: AsyncIterable<Uint8Array | string>,
  format: DataFormat,
  options: ValidationOptions = {},
): Promise<ValidationReport> {
  const collector = new ValidationCollector(format, options);
  for await (const chunk of collector.validate(source)) void chunk;
  return collector.report();
}
