import { createReadStream } from "node:fs";
import type { DataFormat } from "../formats/index.js";
import { readLines } from "../line-reader.js";
import { recordTexts } from "./samples.js";

/**
 * Every text (prompts, answers, documents) of a JSONL dataset file, e.g. to train a tiny
 * model's tokenizer on the data it will learn (`writeTinyModel(dir, { tokenizerTexts })`).
 * Blank lines are skipped; the file is assumed valid (a released version or shipped demo data).
 *
 * @example const texts = await readDatasetTexts("examples/demo-sft.jsonl", "PromptResponse");
 */
export async function readDatasetTexts(path: string, format: DataFormat): Promise<string[]> {
  const texts: string[] = [];
  for await (const line of readLines(createReadStream(path))) {
    const text = line.bytes.toString("utf8").replace(/^\ufeff/, "").trim();
    if (text !== "") texts.push(...recordTexts(format, JSON.parse(text)));
  }
  return texts;
}
