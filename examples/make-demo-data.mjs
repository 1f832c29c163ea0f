#!/usr/bin/env node
// Writes the quickstart's demo datasets (deterministic): single-digit additions as PromptResponse
// conversations (100 possible sums, a quarter asked in Chinese), 240 for training and 40 held out
// for evaluation: a skill a tiny model visibly learns in seconds on CPU, held-out loss included.
import { writeFileSync } from "node:fs";

let seed = 20261124;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const line = () => {
  const a = Math.floor(rand() * 10);
  const b = Math.floor(rand() * 10);
  const chinese = rand() < 0.25;
  const prompt = chinese ? `${a} 加 ${b} 等于多少?` : `What is ${a} + ${b}?`;
  return JSON.stringify([{ prompt, response: [[String(a + b)]] }]);
};
const here = new URL(".", import.meta.url).pathname;
writeFileSync(`${here}demo-sft.jsonl`, `${Array.from({ length: 240 }, line).join("\n")}\n`);
writeFileSync(`${here}demo-eval.jsonl`, `${Array.from({ length: 40 }, line).join("\n")}\n`);
