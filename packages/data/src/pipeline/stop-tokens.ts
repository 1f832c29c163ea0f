import type { LoadedTokenizer } from "./tokenize.js";

/** End-of-turn markers of common chat templates, besides the tokenizer's own eos. */
const END_OF_TURN = ["<|im_end|>", "<|eot_id|>", "<|endoftext|>", "<|end_of_text|>", "</s>"] as const;

/**
 * The token ids that end an answer: the tokenizer's eos and every end-of-turn marker it knows,
 * each once. Evaluation's batch generation and a serving engine's chat calls stop on the same set,
 * so an answer ends where the model was trained to end its turn.
 */
export function stopTokenIds(tok: LoadedTokenizer): number[] {
  const names = [tok.templateTokens.eos_token, ...END_OF_TURN].filter((t): t is string => t !== undefined);
  return [...new Set(names.map((t) => tok.tokenToId(t)).filter((id): id is number => id !== undefined))];
}
