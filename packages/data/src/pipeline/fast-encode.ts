import type { Tokenizer } from "@huggingface/tokenizers";
import { bytesToUnicode } from "./train-bpe.js";

/**
 * A faster `encode` for byte-level BPE tokenizers (GPT-2, Qwen2, Llama 3 and our own), built on
 * the library's own objects so its output is the library's output.
 *
 * Why: @huggingface/tokenizers 0.2.0 encodes at ~1.9 MB/s here; a CPU profile puts ~35% of the
 * time in ByteLevel's per-pre-token `TextEncoder` + byte-map + join and ~14% in its LRU cache
 * (a Map delete + set on every hit). Pre-tokens repeat heavily in natural text, so memoising
 * pre-token → ids in a plain Map skips all of that on a hit.
 *
 * What stays the library's: the normalizer, every pre-tokenizer step before the final
 * ByteLevel (e.g. Qwen2's `Split` regex) and the BPE model itself (called on a cache miss).
 * What is re-done here, exactly as the library does it: splitting out added tokens (longest
 * match first, left to right) and the final ByteLevel step (regex when `use_regex`, then bytes
 * through bytes_to_unicode). `fast-encode.test.ts` checks equality with `Tokenizer.encode`.
 *
 * Returns null (callers use the library's `encode`) for anything outside that shape: a
 * pre-tokenizer not ending in ByteLevel, `add_prefix_space`, added tokens with lstrip/rstrip or
 * normalized added tokens under a normalizer, `fuse_unk`, `remove_space`, lowercasing.
 */
export function fastEncoder(library: Tokenizer, json: Record<string, any>, config: Record<string, any>): ((text: string) => number[]) | null {
  if (config.remove_space === true || config.do_lowercase_and_remove_accent === true) return null;
  const model = json.model as Record<string, unknown> | undefined;
  if (model?.type !== "BPE" || model.fuse_unk === true) return null;
  const normalizer = library.normalizer as unknown as ((text: string) => string) | null;
  const added = Array.isArray(json.added_tokens) ? (json.added_tokens as Array<Record<string, unknown>>) : [];
  for (const t of added) {
    if (t.lstrip === true || t.rstrip === true || t.single_word === true) return null;
    const normalized = t.normalized ?? !(t.special === true);
    if (normalized === true && normalizer !== null) return null;
  }
  const split = preSplitter(library, json.pre_tokenizer);
  if (split === null) return null;

  const addedIds = new Map<string, number>();
  for (const t of added) if (typeof t.content === "string" && typeof t.id === "number") addedIds.set(t.content, t.id);
  const splitter = addedTokenSplitter([...addedIds.keys()]);
  const bpe = library.model as unknown as (tokens: string[]) => string[];
  const tokensToIds = library.model!.tokens_to_ids;
  const unk = library.model!.unk_token_id;
  const byteChars = bytesToUnicode();
  const utf8 = new TextEncoder();
  // Bounded so memory stays flat on any corpus; ~100k short pre-tokens is ~15 MB.
  const MAX_CACHE = 100_000;
  const cache = new Map<string, number[]>();

  const piece = (text: string, out: number[]) => {
    let ids = cache.get(text);
    if (ids === undefined) {
      const bytes = utf8.encode(text);
      let mapped = "";
      for (let i = 0; i < bytes.length; i++) mapped += byteChars[bytes[i]!];
      ids = bpe([mapped]).map((t) => tokensToIds.get(t) ?? unk ?? 0);
      if (text.length < 256) {
        if (cache.size >= MAX_CACHE) cache.clear();
        cache.set(text, ids);
      }
    }
    for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
  };

  return (text: string) => {
    const out: number[] = [];
    splitter(text).forEach((section, sectionIndex) => {
      if (section.length === 0) return;
      const id = addedIds.get(section);
      if (id !== undefined) {
        out.push(id);
        return;
      }
      const normal = normalizer === null ? section : normalizer(section);
      if (normal.length === 0) return;
      for (const p of split(normal, sectionIndex)) piece(p, out);
    });
    return out;
  };
}

type PreSplit = (text: string, sectionIndex: number) => string[];

/**
 * The pre-tokenizer up to (not including) the final ByteLevel byte mapping: ByteLevel alone
 * (its regex, or the whole text), or a Sequence whose earlier steps run as the library's own
 * objects and whose last step is ByteLevel.
 */
function preSplitter(library: Tokenizer, config: Record<string, unknown> | null | undefined): PreSplit | null {
  if (config === null || config === undefined) return null;
  const byteLevelSplit = (c: Record<string, unknown>, instance: { pattern?: RegExp }): ((t: string) => string[]) | null => {
    if (c.add_prefix_space === true) return null;
    if (c.use_regex === false) return (t) => [t];
    const pattern = instance.pattern;
    if (!(pattern instanceof RegExp)) return null;
    return (t) => t.match(pattern) ?? [];
  };
  if (config.type === "ByteLevel") {
    const last = byteLevelSplit(config, library.pre_tokenizer as unknown as { pattern?: RegExp });
    return last === null ? null : (t) => last(t);
  }
  if (config.type === "Sequence" && Array.isArray(config.pretokenizers)) {
    const steps = config.pretokenizers as Array<Record<string, unknown>>;
    const instances = (library.pre_tokenizer as unknown as { tokenizers?: unknown[] }).tokenizers;
    if (steps.length === 0 || !Array.isArray(instances) || instances.length !== steps.length) return null;
    if (steps[steps.length - 1]!.type !== "ByteLevel" || steps.slice(0, -1).some((s) => s.type === "ByteLevel")) return null;
    const last = byteLevelSplit(steps[steps.length - 1]!, instances[instances.length - 1] as { pattern?: RegExp });
    if (last === null) return null;
    const earlier = instances.slice(0, -1) as Array<{ pre_tokenize(text: string[], options: object): string[] } | null>;
    return (t, sectionIndex) => {
      let pieces = [t];
      for (const step of earlier) if (step !== null) pieces = step.pre_tokenize(pieces, { section_index: sectionIndex });
      return pieces.flatMap(last);
    };
  }
  return null;
}

/** The library's DictionarySplitter: at each position the longest added token wins. */
function addedTokenSplitter(tokens: readonly string[]): (text: string) => string[] {
  type Node = { end?: string; next: Map<string, Node> };
  const root: Node = { next: new Map() };
  for (const token of tokens) {
    let node = root;
    // UTF-16 code units, as the library's trie walks them.
    for (let k = 0; k < token.length; k++) {
      const ch = token[k]!;
      let child = node.next.get(ch);
      if (child === undefined) node.next.set(ch, (child = { next: new Map() }));
      node = child;
    }
    node.end = token;
  }
  const first = new Set(root.next.keys());
  return (text) => {
    if (first.size === 0) return [text];
    const out: string[] = [];
    let start = 0;
    let i = 0;
    while (i < text.length) {
      if (!first.has(text[i]!)) {
        i++;
        continue;
      }
      let node: Node | undefined = root;
      let match: string | undefined;
      for (let j = i; j < text.length && (node = node.next.get(text[j]!)) !== undefined; j++) if (node.end !== undefined) match = node.end;
      if (match === undefined) {
        i++;
        continue;
      }
      if (i > start) out.push(text.slice(start, i));
      out.push(match);
      i += match.length;
      start = i;
    }
    if (start < text.length) out.push(text.slice(start));
    return out;
  };
}
