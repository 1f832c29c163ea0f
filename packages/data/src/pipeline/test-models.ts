import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TokenSample } from "./samples.js";
import type { LoadedTokenizer } from "./tokenize.js";
import { trainByteLevelBpe } from "./train-bpe.js";

/**
 * Test support (not exported from the package): small model folders with a real trained
 * byte-level BPE tokenizer, the special tokens of each model family and its chat template (three
 * inline here; the real templates of every family are fixtures, see chat-families.test.ts).
 */

export const CORPUS = [
  "What is the capital of France? The capital of France is Paris.",
  "Write a haiku about the sea. Waves fold into foam, the tide hums its old answer, salt on the wind.",
  "你好，请介绍一下你自己。我是一个乐于助人的助手。微调一个模型需要数据。",
  "The quick brown fox jumps over the lazy dog. the the the and and of of to to in in",
  "def add(a, b):\n    return a + b\n\nprint(add(2, 3))",
  "What is 12 + 30? 42. What is 7 + 8? 15. 37 加 14 等于多少? 51",
];

/** Llama 3's chat template (8B-Instruct), BOS written by the template. */
export const LLAMA3_TEMPLATE =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + " +
  "'<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}" +
  "{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

/** Qwen2.5's chat template (the tool branches included: they must parse and stay silent). */
export const QWEN25_TEMPLATE = [
  "{%- if tools %}",
  "    {{- '<|im_start|>system\\n' }}",
  "    {%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] }}{%- else %}{{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}{%- endif %}",
  "    {{- \"\\n\\n# Tools\\n\\n<tools>\" }}",
  "    {%- for tool in tools %}{{- \"\\n\" }}{{- tool | tojson }}{%- endfor %}",
  "    {{- \"\\n</tools><|im_end|>\\n\" }}",
  "{%- else %}",
  "    {%- if messages[0]['role'] == 'system' %}",
  "        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}",
  "    {%- else %}",
  "        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}",
  "    {%- endif %}",
  "{%- endif %}",
  "{%- for message in messages %}",
  "    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) or (message.role == \"assistant\" and not message.tool_calls) %}",
  "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}",
  "    {%- elif message.role == \"assistant\" %}",
  "        {{- '<|im_start|>' + message.role }}",
  "        {%- if message.content %}{{- '\\n' + message.content }}{%- endif %}",
  "        {{- '<|im_end|>\\n' }}",
  "    {%- elif message.role == \"tool\" %}",
  "        {{- '<|im_start|>user\\n<tool_response>\\n' + message.content + '\\n</tool_response><|im_end|>\\n' }}",
  "    {%- endif %}",
  "{%- endfor %}",
  "{%- if add_generation_prompt %}",
  "    {{- '<|im_start|>assistant\\n' }}",
  "{%- endif %}",
].join("\n");

const LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|eom_id|>", "<|python_tag|>"];
const QWEN_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

/** Each family's added tokens and the special tokens its tokenizer_config.json names. */
const FAMILIES = {
  chatml: { specials: QWEN_SPECIALS, config: { eos_token: { content: "<|im_end|>", __type: "AddedToken" }, pad_token: "<|endoftext|>" } },
  qwen25: { specials: QWEN_SPECIALS, config: { eos_token: "<|im_end|>", pad_token: "<|endoftext|>", bos_token: null, chat_template: QWEN25_TEMPLATE } },
  // Qwen3 has <think> and </think> as added tokens.
  qwen3: { specials: [...QWEN_SPECIALS, "<think>", "</think>"], config: { eos_token: "<|im_end|>", pad_token: "<|endoftext|>", bos_token: null } },
  llama3: { specials: LLAMA3_SPECIALS, config: { bos_token: "<|begin_of_text|>", eos_token: "<|eot_id|>", chat_template: LLAMA3_TEMPLATE } },
  ernie45: {
    specials: ["<unk>", "<s>", "</s>", "<|begin_of_sentence|>", "<|end_of_sentence|>"],
    config: { bos_token: "<s>", eos_token: "</s>", pad_token: "<unk>", unk_token: "<unk>", cls_token: "<|begin_of_sentence|>", sep_token: "<|end_of_sentence|>" },
  },
  mistral: {
    specials: ["<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_CALLS]", "[TOOL_RESULTS]", "[/TOOL_RESULTS]"],
    config: { bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>" },
  },
  gemma: {
    specials: ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"],
    config: { bos_token: "<bos>", eos_token: "<eos>", pad_token: "<pad>", unk_token: "<unk>" },
  },
} satisfies Record<string, { specials: string[]; config: Record<string, unknown> }>;

export type TestFamily = keyof typeof FAMILIES;

interface TestModelOptions {
  readonly vocabSize?: number;
  readonly modelVocab?: number;
  /** The chat_template written into tokenizer_config.json, in place of the family's own. */
  readonly chatTemplate?: string;
}

/**
 * Writes tokenizer.json, tokenizer_config.json and config.json for `family` into `dir`.
 * Llama 3's tokenizer adds BOS in its post-processor, as the real one does.
 */
export async function writeTestModel(dir: string, family: TestFamily, options: TestModelOptions = {}): Promise<void> {
  const { specials, config: familyConfig } = FAMILIES[family];
  const bpe = trainByteLevelBpe(CORPUS, { vocabSize: options.vocabSize ?? 600, specialTokens: specials });
  const json: Record<string, unknown> = { ...bpe.tokenizerJson };
  if (family === "llama3") {
    const bos = bpe.specialIds["<|begin_of_text|>"]!;
    json.post_processor = {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [{ SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } }],
      special_tokens: { "<|begin_of_text|>": { id: "<|begin_of_text|>", ids: [bos], tokens: ["<|begin_of_text|>"] } },
    };
  }
  const config: Record<string, unknown> = { ...familyConfig, clean_up_tokenization_spaces: false };
  if (options.chatTemplate !== undefined) config.chat_template = options.chatTemplate;
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "tokenizer.json"), JSON.stringify(json));
  await writeFile(join(dir, "tokenizer_config.json"), JSON.stringify(config));
  await writeFile(join(dir, "config.json"), JSON.stringify({ vocab_size: options.modelVocab ?? bpe.size + 8 }));
}

/** The decoded runs of trained tokens, in order. */
export function trainedRuns(tok: LoadedTokenizer, sample: TokenSample): string[] {
  const runs: string[] = [];
  let run: number[] = [];
  sample.ids.forEach((id, i) => {
    if (sample.mask[i] === 1) run.push(id);
    else if (run.length > 0) {
      runs.push(tok.decode(run));
      run = [];
    }
  });
  if (run.length > 0) runs.push(tok.decode(run));
  return runs;
}
