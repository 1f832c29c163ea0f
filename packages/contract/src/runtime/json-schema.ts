import { z } from "zod";
import { RuntimeEvent } from "./events.js";
import { GenerateAnswerLine, GeneratePromptLine, RuntimeExportSpec, RuntimeFinetuneSpec, RuntimeGenerateSpec, RuntimeQuantizeSpec, RuntimeServeSpec } from "./specs.js";

/**
 * The runtime protocol as JSON Schema files, by file name: what
 * `scripts/export-runtime-schema.mjs` writes into `runtime/sailfin_runtime/schema/` (shipped
 * with the runtime, which reads its defaults and ranges from them). What the runtime *reads*
 * (specs, prompt lines) is rendered as input: optional fields with their defaults. What it
 * *writes* (events, answer lines) as output: closed objects, so an undeclared field fails the
 * runtime's schema test.
 */
export function runtimeJsonSchemas(): Record<string, object> {
  const read = (schema: z.ZodType) => z.toJSONSchema(schema, { io: "input" });
  const written = (schema: z.ZodType) => z.toJSONSchema(schema, { io: "output" });
  return {
    "finetune.spec.json": read(RuntimeFinetuneSpec),
    "export.spec.json": read(RuntimeExportSpec),
    "quantize.spec.json": read(RuntimeQuantizeSpec),
    "generate.spec.json": read(RuntimeGenerateSpec),
    "serve.spec.json": read(RuntimeServeSpec),
    "generate.prompt.json": read(GeneratePromptLine),
    "generate.answer.json": written(GenerateAnswerLine),
    "events.json": written(RuntimeEvent),
  };
}

/** A schema file's text as checked in: two-space JSON and a final newline. */
export function jsonSchemaText(schema: object): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}
