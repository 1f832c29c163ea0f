import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PipelineInputError } from "./errors.js";
import { countTokens, prepareTrainingData, type PrepareOptions } from "./prepare.js";
import { writeTestModel } from "./test-models.js";

let root: string;
let model: string;
const files: Record<string, string> = {};
const CHAT_TEMPLATES = resolve(dirname(fileURLToPath(import.meta.url)), "../../fixtures/chat-templates");
let outs = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "sailfin-prepare-"));
  model = join(root, "model");
  await writeTestModel(model, "chatml");
  const lines = (n: number, f: (i: number) => unknown) => `${Array.from({ length: n }, (_, i) => JSON.stringify(f(i))).join("\n")}\n`;
  const data: Record<string, string> = {
    sft: lines(200, (i) => [{ prompt: `What is ${i} + 1?`, response: [[String(i + 1)]] }]),
    messages: lines(50, (i) => ({ messages: [{ role: "user", content: `Say ${i}` }, { role: "assistant", content: `${i}` }] })),
    pairs: lines(40, (i) => [{ user: `Is ${i} even?`, chosen: i % 2 === 0 ? "Yes." : "No.", rejected: i % 2 === 0 ? "No." : "Yes." }]),
    text: lines(30, (i) => ({ text: `Document ${i}. `.repeat(1 + (i % 7)) })),
    // CRLF, a BOM, a blank line: read as the validator reads them.
    crlf: `\ufeff${JSON.stringify([{ prompt: "a", response: [["b"]] }])}\r\n\r\n${JSON.stringify([{ prompt: "c", response: [["d"]] }])}\r\n`,
    bad: `${JSON.stringify([{ prompt: "a", response: [["b"]] }])}\n[{"prompt": "x"}]\n`,
  };
  for (const [name, text] of Object.entries(data)) {
    files[name] = join(root, `${name}.jsonl`);
    await writeFile(files[name]!, text);
  }
});
after(() => rm(root, { recursive: true, force: true }));

function options(extra: Partial<PrepareOptions>): PrepareOptions {
  return {
    datasets: [{ path: files.sft!, format: "PromptResponse" }], modelDir: model, trainMode: "SFT",
    maxSeqLen: 64, splitRatio: 20, seed: 42, outDir: join(root, `out-${outs++}`), ...extra,
  };
}

async function folderBytes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const split of ["train", "validation"]) {
    for (const name of (await readdir(join(dir, split))).sort()) out[`${split}/${name}`] = (await readFile(join(dir, split, name))).toString("base64");
  }
  return out;
}

describe("prepareTrainingData", () => {
  test("SFT from two datasets: split, manifests, deterministic bytes, countTokens agrees", async () => {
    const opts = options({ datasets: [{ path: files.sft!, format: "PromptResponse" }, { path: files.messages!, format: "Messages" }] });
    const first = await prepareTrainingData(opts);
    const { train, validation } = first;
    assert.equal(train.samples + validation.samples, 250);
    assert.ok(validation.samples > 25 && validation.samples < 75, `validation ${validation.samples}`);
    assert.equal(train.kind, "packed");
    assert.equal(train.seqLen, 64);
    assert.ok(train.trainedTokens > 0 && train.trainedTokens < train.tokens);
    assert.notEqual(train.contentHash, validation.contentHash);
    assert.equal(first.datasetHashes.length, 2);
    const again = await prepareTrainingData({ ...opts, outDir: join(root, `out-${outs++}`) });
    assert.deepEqual(again.train, train);
    assert.deepEqual(await folderBytes(opts.outDir), await folderBytes(join(root, `out-${outs - 1}`)));
    const counted = await countTokens(opts);
    assert.deepEqual({ ...counted.train, shards: [] }, { ...train, shards: [] });
    assert.equal(counted.validation.trainedTokens, validation.trainedTokens);
  });

  test("a dataset in the validation role is evaluation data, whole; the others split as asked", async () => {
    const counted = await countTokens(options({
      splitRatio: 0,
      datasets: [{ path: files.sft!, format: "PromptResponse" }, { path: files.messages!, format: "Messages", role: "validation", samplingRate: 3 }],
    }));
    assert.equal(counted.train.samples, 200);
    // Never repeated, whatever the sampling rate: validation samples count once.
    assert.equal(counted.validation.samples, 50);
  });

  test("sampling rate 2 doubles the training samples, never the validation ones", async () => {
    const one = await countTokens(options({}));
    const two = await countTokens(options({ datasets: [{ path: files.sft!, format: "PromptResponse", samplingRate: 2 }] }));
    assert.equal(two.train.samples, 2 * one.train.samples);
    assert.equal(two.validation.samples, one.validation.samples);
    const tenth = await countTokens(options({ datasets: [{ path: files.sft!, format: "PromptResponse", samplingRate: 0.5 }] }));
    assert.ok(tenth.train.samples < one.train.samples * 0.7 && tenth.train.samples > one.train.samples * 0.3);
  });

  test("KTO writes kto.u8 (desirable, undesirable per pair); DPO writes preference rows", async () => {
    const kto = await prepareTrainingData(options({ trainMode: "KTO", datasets: [{ path: files.pairs!, format: "PromptChosenRejected" }], splitRatio: 0 }));
    assert.equal(kto.train.kind, "kto");
    assert.equal(kto.train.samples, 40);
    assert.equal(kto.train.rows, 80);
    const dir = join(root, `out-${outs - 1}`, "train");
    const flags = await readFile(join(dir, "shard-00000.kto.u8"));
    assert.equal(flags.length, 80);
    assert.ok(flags.every((f, i) => f === (i % 2 === 0 ? 1 : 0)));
    const dpo = await prepareTrainingData(options({ trainMode: "DPO", datasets: [{ path: files.pairs!, format: "PromptChosenRejected" }] }));
    assert.equal(dpo.train.kind, "preference");
    assert.equal(dpo.train.rows, 2 * dpo.train.samples);
  });

  test("PostPretrain on Text trains every token; CRLF, BOM and blank lines are read like the validator does", async () => {
    const pre = await countTokens(options({ trainMode: "PostPretrain", datasets: [{ path: files.text!, format: "Text" }], splitRatio: 0, maxSeqLen: 512 }));
    assert.equal(pre.train.trainedTokens, pre.train.tokens);
    assert.equal(pre.train.samples, 30);
    // Long documents are continued in further chunks, not cut.
    const short = await countTokens(options({ trainMode: "PostPretrain", datasets: [{ path: files.text!, format: "Text" }], splitRatio: 0, maxSeqLen: 8 }));
    assert.equal(short.train.tokens, pre.train.tokens);
    assert.equal(short.train.truncatedSamples, 0);
    assert.ok(short.train.samples > 30);
    const crlf = await countTokens(options({ datasets: [{ path: files.crlf!, format: "PromptResponse" }], splitRatio: 0 }));
    assert.equal(crlf.train.samples, 2);
  });

  test("input problems are PipelineInputErrors naming what is wrong", async () => {
    const fails = async (extra: Partial<PrepareOptions>, message: RegExp, field?: string) => {
      await assert.rejects(countTokens(options(extra)), (error: unknown) => {
        assert.ok(error instanceof PipelineInputError, String(error));
        assert.match(error.message, message);
        if (field !== undefined) assert.equal(error.field, field);
        return true;
      });
    };
    await fails({ datasets: [{ path: files.text!, format: "Text" }] }, /Text, which SFT cannot train on/, "datasets[0].format");
    await fails({ datasets: [{ path: files.bad!, format: "PromptResponse" }] }, /dataset 0 line 2: \[0\]\.response is required/);
    await fails({ splitRatio: 100 }, /every sample went to validation/);
    await fails({ datasets: [{ path: files.sft!, format: "PromptResponse", samplingRate: 20 }] }, /samplingRate/, "datasets[0].samplingRate");
    const small = join(root, "small-vocab");
    await writeTestModel(small, "chatml", { modelVocab: 300 });
    await fails({ modelDir: small }, /vocab_size is 300.*does not belong to this model/);
    await fails({ modelDir: join(root, "nowhere") }, /no tokenizer\.json/);
    // Gemma 2's real template raises on a system message: the record and the message are named.
    const gemma = join(root, "gemma2");
    await writeTestModel(gemma, "gemma", { chatTemplate: await readFile(join(CHAT_TEMPLATES, "gemma2.jinja"), "utf8") });
    const system = join(root, "system.jsonl");
    await writeFile(system, `${JSON.stringify({ messages: [{ role: "user", content: "Q" }, { role: "assistant", content: "A" }] })}\n` +
      `${JSON.stringify({ messages: [{ role: "system", content: "S" }, { role: "user", content: "Q" }, { role: "assistant", content: "A" }] })}\n`);
    await fails({ modelDir: gemma, datasets: [{ path: system, format: "Messages" }], splitRatio: 0 },
      /^dataset 0 line 2: messages\[0\]: the model's chat_template does not accept a system message \(it says: System role not supported\)/);
  });
});
