/**
 * Tokenization for the rule metrics (BLEU-4, ROUGE, token F1). Chinese has no spaces, so the
 * common practice for Chinese generation metrics is to compare characters; other scripts are
 * compared word by word. One tokenizer serves mixed text such as "我有3个apple".
 *
 * Rules, in order:
 * 1. NFKC normalization (full-width "ＡＢＣ３" becomes "abc3", so half- and full-width forms
 *    match), then lower case.
 * 2. Each Han ideograph, Japanese kana or Hangul syllable is one token (with any combining marks
 *    that follow it).
 * 3. Any other run of letters, marks and digits is one word token; a decimal point between digits
 *    stays inside the word ("3.14" is one token, "end.next" two).
 * 4. Everything else (whitespace, punctuation, symbols) separates tokens and is dropped.
 */

// `scx` (Script_Extensions) so that the prolonged sound mark ー counts as kana; the lookahead keeps
// CJK punctuation such as 「」, which share those extensions, out of the tokens.
const CJK = String.raw`(?=[\p{L}\p{N}])[\p{sc=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{sc=Hangul}]`;
const NOT_CJK_WORD_CHAR = String.raw`(?:(?!${CJK})[\p{L}\p{M}\p{N}])`;
const TOKEN = new RegExp(String.raw`${CJK}\p{M}*|${NOT_CJK_WORD_CHAR}+(?:(?<=\p{Nd})\.\p{Nd}+)*`, "gu");

/**
 * Stop words, compiled once: single tokens, and entries that tokenize to several tokens (a
 * Chinese word like "我们" is two character tokens) kept as phrases, removed as a whole.
 */
export interface StopWords {
  readonly tokens: ReadonlySet<string>;
  /** First token → phrases starting with it, longest first. */
  readonly phrases: ReadonlyMap<string, readonly (readonly string[])[]>;
}

/**
 * Splits `text` into metric tokens (see the module comment), dropping stop words when given.
 *
 * @example metricTokens("我有3个apple!") // ["我", "有", "3", "个", "apple"]
 * @example metricTokens("The cat's 3.5 lives", DEFAULT_STOP_WORDS) // ["cat", "s", "3.5", "lives"]
 */
export function metricTokens(text: string, stopWords?: StopWords): string[] {
  const tokens = text.normalize("NFKC").toLowerCase().match(TOKEN) ?? [];
  if (!stopWords || (stopWords.tokens.size === 0 && stopWords.phrases.size === 0)) return tokens;
  const kept: string[] = [];
  for (let i = 0; i < tokens.length; ) {
    const token = tokens[i]!;
    const phrase = stopWords.phrases.get(token)?.find((p) => p.every((t, k) => tokens[i + k] === t));
    if (phrase) i += phrase.length;
    else {
      if (!stopWords.tokens.has(token)) kept.push(token);
      i += 1;
    }
  }
  return kept;
}

/**
 * Compiles a list of stop words. Each entry is tokenized like the text it filters, so case and
 * width do not matter; entries that are only punctuation are ignored (punctuation is never a token).
 *
 * @example metricTokens("我们的书", stopWordSet(["我们", "的"])) // ["书"]
 */
export function stopWordSet(words: Iterable<string>): StopWords {
  const tokens = new Set<string>();
  const phrases = new Map<string, string[][]>();
  for (const word of words) {
    const parts = metricTokens(word);
    if (parts.length === 1) tokens.add(parts[0]!);
    else if (parts.length > 1) {
      const list = phrases.get(parts[0]!) ?? [];
      if (!list.some((p) => p.join("\u0000") === parts.join("\u0000"))) list.push(parts);
      list.sort((a, b) => b.length - a.length);
      phrases.set(parts[0]!, list);
    }
  }
  return { tokens, phrases };
}

/**
 * Parses a user stop-word file (Qianfan's `stopWordsPath`): one word or phrase per line, UTF-8
 * with or without a BOM, `#` starts a comment line, blank lines are skipped.
 *
 * @example parseStopWords("# particles\n的\n了\n\nthe\n") // the set {的, 了, the}
 */
export function parseStopWords(fileText: string): StopWords {
  const lines = fileText.replace(/^\uFEFF/, "").split(/\r?\n/);
  return stopWordSet(lines.map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#")));
}

/**
 * The built-in list, used when an evaluation names no stop-word file: English function words and
 * the Chinese structural and modal particles that carry no content at character level.
 * Deliberately small: a long list (e.g. NLTK's 179 English words) removes "not"/"no", which
 * flips meaning, and Chinese characters such as 是/有/不 are often the whole answer.
 */
const DEFAULT_STOP_WORD_LIST: readonly string[] = Object.freeze([
  "a", "an", "the", "and", "or", "of", "to", "in", "on", "at", "for", "with", "by", "as",
  "is", "are", "was", "were", "be", "been", "it", "its", "this", "that",
  "的", "地", "得", "了", "着", "过", "吗", "呢", "吧", "啊", "呀", "嘛", "哦", "么", "之", "而", "与", "及",
]);

export const DEFAULT_STOP_WORDS: StopWords = stopWordSet(DEFAULT_STOP_WORD_LIST);

/** An empty list: pass it to keep every token. */
export const NO_STOP_WORDS: StopWords = stopWordSet([]);
