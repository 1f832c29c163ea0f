import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SUPPORTED_PARAMETER_SCALES, TRAIN_MODES, type HyperParameterValue } from "../finetune.js";
import { RuntimeEvent } from "./events.js";
import { HYPER_PARAMETERS, LORA_TARGET_MODULES, RuntimeHyper, appliesTo, hyperParameterRows, runtimeHyper } from "./hyper-parameters.js";
import { RuntimeFinetuneSpec, RuntimeGenerateSpec, RuntimeQuantizeSpec } from "./specs.js";

const MODEL = { maxSeqLenChoices: [128, 256, 512], maxSeqLenDefault: 512 };

/** A validated hyper-parameter set as the engine resolves it: every row's default. */
function defaults(trainMode: (typeof TRAIN_MODES)[number], scale: (typeof SUPPORTED_PARAMETER_SCALES)[number]): Record<string, HyperParameterValue> {
  return Object.fromEntries(hyperParameterRows(trainMode, scale, MODEL).map((row) => [row.key, row.default]));
}

describe("hyper-parameter definitions", () => {
  test("every value the API accepts, the runtime accepts", () => {
    for (const definition of HYPER_PARAMETERS) {
      if (definition.runtime === null || definition.checkValue === "model") continue;
      const runtime = definition.runtime;
      const toRuntime = definition.toRuntime ?? ((v: HyperParameterValue) => v);
      const values: HyperParameterValue[] = definition.checkType === "mult_choice"
        ? definition.checkValue.map((v) => [String(v)])
        : [...definition.checkValue];
      const scaleDefaults = typeof definition.default === "object" && !Array.isArray(definition.default)
        ? Object.values(definition.default) : [definition.default as HyperParameterValue];
      for (const value of [...values, ...scaleDefaults]) {
        assert.ok(runtime.safeParse(toRuntime(value)).success, `${definition.key}: the API accepts ${JSON.stringify(value)}, the runtime does not`);
      }
    }
  });

  test("defaults differ by scale where the definition says so, and keys apply by mode and scale", () => {
    assert.equal(defaults("SFT", "LoRA").learningRate, 3e-4);
    assert.equal(defaults("SFT", "FullFineTuning").learningRate, 3e-5);
    assert.equal(defaults("SFT", "FullFineTuning").loraRank, undefined);
    assert.equal(defaults("DPO", "FullFineTuning").dpoBeta, 0.1);
    assert.equal(defaults("KTO", "LoRA").dpoBeta, undefined);
    assert.equal(defaults("SFT", "LoRA").gradientCheckpointing, "False");
    assert.equal(defaults("SFT", "LoRA").maxSeqLen, 512);
    for (const definition of HYPER_PARAMETERS) {
      for (const mode of TRAIN_MODES) {
        for (const scale of SUPPORTED_PARAMETER_SCALES) {
          assert.equal(defaults(mode, scale)[definition.key] !== undefined, appliesTo(definition, mode, scale), `${definition.key} ${mode}/${scale}`);
        }
      }
    }
  });
});

describe("runtimeHyper", () => {
  test("drops what the runtime does not read, spells True/False as booleans, and names all modules for loraAllLinear", () => {
    const lora = runtimeHyper("LoRA", { ...defaults("SFT", "LoRA"), gradientCheckpointing: "True" });
    assert.equal("maxSeqLen" in lora, false);
    assert.equal("loraAllLinear" in lora, false);
    assert.equal(lora.gradientCheckpointing, true);
    assert.deepEqual(lora.loraTargetModules, [...LORA_TARGET_MODULES]);
    assert.equal(lora.learningRate, 3e-4);

    const some = runtimeHyper("LoRA", { ...defaults("SFT", "LoRA"), loraAllLinear: "False", loraTargetModules: ["k_proj"] });
    assert.deepEqual(some.loraTargetModules, ["k_proj"]);
    assert.equal(some.gradientCheckpointing, false);

    const full = runtimeHyper("FullFineTuning", defaults("DPO", "FullFineTuning"));
    assert.deepEqual(Object.keys(full).sort(), Object.keys(defaults("DPO", "FullFineTuning")).filter((k) => k !== "maxSeqLen").sort());
    for (const mode of TRAIN_MODES) {
      for (const scale of SUPPORTED_PARAMETER_SCALES) assert.ok(RuntimeHyper.safeParse(runtimeHyper(scale, defaults(mode, scale))).success, `${mode}/${scale}`);
    }
  });

  test("a hyper-parameter set stored before gradientCheckpointing existed still translates", () => {
    const { gradientCheckpointing: _, ...old } = defaults("SFT", "FullFineTuning");
    assert.equal("gradientCheckpointing" in runtimeHyper("FullFineTuning", old), false);
  });
});

describe("runtime specs and events", () => {
  test("the specs the worker writes parse, and a field the runtime does not read is refused", () => {
    const finetune = {
      version: 1, runId: "task-1", trainMode: "SFT", parameterScale: "LoRA", modelDir: "/m", initCheckpoint: null,
      data: { train: "/d/train", validation: null }, outputDir: "/o", resumeFrom: null,
      hyper: runtimeHyper("LoRA", defaults("SFT", "LoRA")), device: "auto", precision: "auto",
    };
    assert.ok(RuntimeFinetuneSpec.safeParse(finetune).success);
    assert.equal(RuntimeFinetuneSpec.safeParse({ ...finetune, hyper: { ...finetune.hyper, maxSeqLen: 512 } }).success, false);
    assert.equal(RuntimeFinetuneSpec.safeParse({ ...finetune, extra: 1 }).success, false);
    assert.ok(RuntimeQuantizeSpec.safeParse({
      version: 1, modelDir: "/m", outputDir: "/q", bits: 4, groupSize: 128, scheme: "W4A16C16", evalSplit: null, evalMaxRows: 64,
    }).success);
    assert.equal(RuntimeQuantizeSpec.safeParse({ version: 1, modelDir: "/m", outputDir: "/q", bits: 16 }).success, false);
    assert.ok(RuntimeGenerateSpec.safeParse({
      version: 1, modelDir: "/m", promptsFile: "/p", outputFile: "/a", maxNewTokens: 64, doSample: false, temperature: 1, topP: 1, topK: 0,
      repetitionPenalty: 1, eosTokenIds: [2], stopSequences: [[3]], batchSize: 16, seed: 0, device: "auto", dtype: "auto",
    }).success);
  });

  test("events parse by their event word; an unknown field is dropped, a missing one refused", () => {
    const done = RuntimeEvent.parse({ event: "done", time: 1.5, step: 12, outputs: { lastCheckpoint: "/o/step_000012" }, later: true });
    assert.equal(done.event, "done");
    assert.equal("later" in done, false);
    assert.equal(RuntimeEvent.safeParse({ event: "checkpoint", time: 1, step: 3, trainLoss: null, evalLoss: null }).success, false);
    assert.equal(RuntimeEvent.safeParse({ event: "error", time: 1, kind: "fatal", message: "x" }).success, false);
  });
});
