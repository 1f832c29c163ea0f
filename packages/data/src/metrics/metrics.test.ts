import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { bleu4, bleu4Tokens } from "./bleu.js";
import { exactMatch, normalizeAnswer, tokenF1 } from "./match.js";
import { rouge, rougeTokens } from "./rouge.js";
import { aggregateMetrics, sampleMetrics } from "./sample-metrics.js";
import { DEFAULT_STOP_WORDS, NO_STOP_WORDS, metricTokens, parseStopWords, stopWordSet } from "./tokens.js";

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} ≠ ${expected}`);

describe("metric tokens", () => {
  test("CJK by character, other scripts by word, punctuation dropped", () => {
    assert.deepEqual(metricTokens("我有3个apple"), ["我", "有", "3", "个", "apple"]);
    assert.deepEqual(metricTokens("Hello, World! It's 3.14 (approx)."), ["hello", "world", "it", "s", "3.14", "approx"]);
    assert.deepEqual(metricTokens("「北京」是中国的首都。"), ["北", "京", "是", "中", "国", "的", "首", "都"]);
    assert.deepEqual(metricTokens("ＡＢＣ３，full-width"), ["abc3", "full", "width"], "NFKC folds full-width forms");
    assert.deepEqual(metricTokens("ラーメンを食べた"), ["ラ", "ー", "メ", "ン", "を", "食", "べ", "た"]);
    assert.deepEqual(metricTokens("한국어 Straße café"), ["한", "국", "어", "straße", "café"]);
    assert.deepEqual(metricTokens("end.Next v2"), ["end", "next", "v2"], "a dot joins digits only");
    assert.deepEqual(metricTokens(" \n…！？ "), []);
  });

  test("stop words: single tokens and multi-character phrases, from the default list or a file", () => {
    assert.deepEqual(metricTokens("The cat is on the mat", DEFAULT_STOP_WORDS), ["cat", "mat"]);
    assert.deepEqual(metricTokens("我的书了", DEFAULT_STOP_WORDS), ["我", "书"]);
    assert.deepEqual(metricTokens("是不是", DEFAULT_STOP_WORDS), ["是", "不", "是"], "是 is kept: it is often the whole answer");
    const file = parseStopWords("\uFEFF# comment line\r\n我们\r\n\r\nTHE\n  的  \n!!!\n");
    assert.deepEqual([...file.tokens].sort(), ["the", "的"]);
    assert.deepEqual(metricTokens("我们的书和我", file), ["书", "和", "我"], "the phrase 我们 goes, a lone 我 stays");
    assert.deepEqual(metricTokens("The 我们", NO_STOP_WORDS), ["the", "我", "们"]);
    const longest = stopWordSet(["ab cd", "ab cd ef"]);
    assert.deepEqual(metricTokens("ab cd ef gh ab cd x", longest), ["gh", "x"], "longest phrase first");
  });
});

// Reference values: packages/data/src/metrics/reference-values.py run with nltk 3.10.4 and
// rouge-score 0.1.2 on the token lists asserted below; BLEU is
// sentence_bleu(refs, hyp, smoothing_function=SmoothingFunction().method1), ROUGE the F-measures
// of RougeScorer(["rouge1", "rouge2", "rougeL"]) on the first reference.
const REFERENCE = {
  "en-paraphrase": { bleu4: 0.21506254256566312, rouge1: 0.7692307692307692, rouge2: 0.5454545454545454, rougeL: 0.7692307692307692 },
  "en-three-references": { bleu4: 0.5045666840058485, rouge1: 0.7058823529411765, rouge2: 0.5, rougeL: 0.6470588235294118 },
  "en-short-hypothesis": { bleu4: 0.04279677428117006, rouge1: 0.5, rouge2: 0.33333333333333337, rougeL: 0.5 },
  "zh-paraphrase": { bleu4: 0.06401101284768906, rouge1: 0.7857142857142856, rouge2: 0.3846153846153846, rougeL: 0.6428571428571429 },
  "zh-paraphrase-default-stop-words": { bleu4: 0.06917184228205475, rouge1: 0.8148148148148148, rouge2: 0.4, rougeL: 0.6666666666666666 },
  "zh-two-references": { bleu4: 0.8906900852832694, rouge1: 0.9333333333333333, rouge2: 0.8571428571428571, rougeL: 0.9333333333333333 },
  mixed: { bleu4: 0.3740548510898886, rouge1: 0.6, rouge2: 0.4444444444444445, rougeL: 0.6 },
};

const CASES: { name: keyof typeof REFERENCE; prediction: string; references: string[]; stopWords?: typeof DEFAULT_STOP_WORDS; tokens: string[] }[] = [
  { name: "en-paraphrase", prediction: "The cat sat on the mat.", references: ["The cat is sitting on the mat."], tokens: ["the", "cat", "sat", "on", "the", "mat"] },
  {
    name: "en-three-references",
    prediction: "It is a guide to action which ensures that the military always obeys the commands of the party.",
    references: [
      "It is a guide to action that ensures that the military will forever heed Party commands.",
      "It is the guiding principle which guarantees the military forces always being under the command of the Party.",
      "It is the practical guide for the army always to heed the directions of the party.",
    ],
    tokens: "it is a guide to action which ensures that the military always obeys the commands of the party".split(" "),
  },
  { name: "en-short-hypothesis", prediction: "the cat", references: ["The cat is on the mat"], tokens: ["the", "cat"] },
  { name: "zh-paraphrase", prediction: "今天北京的天气很好，适合出去散步。", references: ["北京今天天气不错，很适合散步。"], tokens: [..."今天北京的天气很好适合出去散步"] },
  {
    name: "zh-paraphrase-default-stop-words",
    prediction: "今天北京的天气很好，适合出去散步。",
    references: ["北京今天天气不错，很适合散步。"],
    stopWords: DEFAULT_STOP_WORDS,
    tokens: [..."今天北京天气很好适合出去散步"],
  },
  { name: "zh-two-references", prediction: "机器学习是人工智能的一个分支。", references: ["机器学习是人工智能的一个重要分支", "机器学习属于人工智能领域"], tokens: [..."机器学习是人工智能的一个分支"] },
  { name: "mixed", prediction: "我有3个apple和2个orange", references: ["我有3个apple，还有两个橙子"], tokens: ["我", "有", "3", "个", "apple", "和", "2", "个", "orange"] },
];

describe("BLEU-4 and ROUGE against NLTK and rouge-score", () => {
  for (const c of CASES) {
    test(c.name, () => {
      assert.deepEqual(metricTokens(c.prediction, c.stopWords), c.tokens, "the tokens the reference script scored");
      const expected = REFERENCE[c.name];
      close(bleu4(c.prediction, c.references, c.stopWords), expected.bleu4, "bleu4");
      const r = rouge(c.prediction, c.references[0]!, c.stopWords);
      close(r.rouge1, expected.rouge1, "rouge1");
      close(r.rouge2, expected.rouge2, "rouge2");
      close(r.rougeL, expected.rougeL, "rougeL");
    });
  }

  test("worked by hand", () => {
    // Identical: every p_n = 1, c = r so BP = exp(0) = 1; every F = 1.
    assert.equal(bleu4("a b c d e", ["a b c d e"]), 1);
    assert.deepEqual(rouge("今天天气好", "今天天气好"), { rouge1: 1, rouge2: 1, rougeL: 1 });
    // Disjoint: no unigram match gives 0 before smoothing; no overlap, no LCS.
    assert.equal(bleu4("x y z w", ["a b c d"]), 0);
    assert.deepEqual(rouge("甲乙", "丙丁"), { rouge1: 0, rouge2: 0, rougeL: 0 });
    // Brevity: "a b c d" against "a b c d e f g h": p1..p4 = 1, c = 4, r = 8, BP = exp(1 - 8/4) = e^-1.
    close(bleu4Tokens(["a", "b", "c", "d"], [[..."abcdefgh"]]), Math.exp(-1), "brevity penalty");
    // Longer than the reference: no penalty. "a b c d e" vs "a b c d": p1 = 4/5, p2 = 3/4, p3 = 2/3,
    // p4 = 1/2 → (4/5 · 3/4 · 2/3 · 1/2)^(1/4) = 0.2^(1/4).
    close(bleu4Tokens([..."abcde"], [[..."abcd"]]), 0.2 ** 0.25, "no penalty when longer");
    // Smoothing: "北京" vs "北京": p1 = 2/2, p2 = 1/1, p3 = p4 = 0.1 / max(1, 0) → (0.1 · 0.1)^(1/4) = √0.1.
    close(bleu4("北京", ["北京。"]), Math.sqrt(0.1), "method 1 on a two-token answer");
    // The closest reference decides the penalty; on a tie the shorter one (c = 4; lengths 2 and 6 → r = 2, no penalty).
    close(bleu4Tokens([..."abcd"], [[..."ab"], [..."abcdef"]]), 1, "closest reference, shorter on a tie");
    // Empty prediction or no reference.
    assert.equal(bleu4("", ["a"]), 0);
    assert.equal(bleu4("a", []), 0);
    // ROUGE: "a b c" vs "a c": overlap 2, P = 2/3, R = 1, F = 0.8; no shared bigram; LCS "a c" = 2.
    assert.deepEqual(rougeTokens(["a", "b", "c"], ["a", "c"]), { rouge1: 0.8, rouge2: 0, rougeL: 0.8 });
    assert.deepEqual(rougeTokens([], ["a"]), { rouge1: 0, rouge2: 0, rougeL: 0 });
  });
});

describe("exact match, token F1, per-sample and aggregate metrics", () => {
  test("exact match normalizes width, case, whitespace and surrounding punctuation only", () => {
    assert.equal(normalizeAnswer("  「Hello,   World!」 "), "hello, world");
    assert.equal(exactMatch("北京。", "北京"), 1);
    assert.equal(exactMatch("答案：Ａ", "答案:a"), 1);
    assert.equal(exactMatch("3.14", "314"), 0);
    assert.equal(exactMatch("北 京", "北京"), 0, "inner whitespace is collapsed, not removed");
    assert.equal(exactMatch("", "..."), 1);
  });

  test("token F1 is SQuAD's bag-of-tokens F1", () => {
    // 北京是首都 vs 首都北京: overlap 4, P = 4/5, R = 4/4, F1 = 2·0.8·1 / 1.8.
    close(tokenF1("北京是首都", "首都北京"), 1.6 / 1.8, "zh");
    // "the the cat" vs "the cat sat": overlap min(2,1) + 1 = 2, P = R = 2/3.
    close(tokenF1("the the cat", "the cat sat"), 2 / 3, "clipped counts");
    assert.equal(tokenF1("abc", "xyz"), 0);
    assert.equal(tokenF1("!!", "。"), 1, "both empty");
    assert.equal(tokenF1("", "x"), 0);
  });

  test("sampleMetrics tokenizes once with the default stop words; aggregate is the mean", () => {
    const zh = sampleMetrics("今天北京的天气很好，适合出去散步。", "北京今天天气不错，很适合散步。");
    const expected = REFERENCE["zh-paraphrase-default-stop-words"];
    close(zh.bleu4, expected.bleu4, "bleu4");
    close(zh.rouge_1, expected.rouge1, "rouge_1");
    close(zh.rouge_2, expected.rouge2, "rouge_2");
    close(zh.rouge_l, expected.rougeL, "rouge_l");
    assert.equal(zh.accuracy, 0);
    // 14 vs 13 tokens after 的 goes; shared bag: 今 天 北 京 天 气 很 适 合 散 步 = 11.
    close(zh.f1Score, (2 * 11) / (14 + 13), "f1");
    const plain = sampleMetrics("The answer is B.", "the answer is b", { stopWords: NO_STOP_WORDS });
    assert.deepEqual(plain, { bleu4: 1, rouge_1: 1, rouge_2: 1, rouge_l: 1, accuracy: 1, f1Score: 1 });
    const none = sampleMetrics("no", "yes");
    const mean = aggregateMetrics([plain, none]);
    assert.deepEqual(mean, { accuracy: 0.5, f1Score: 0.5, rouge_1: 0.5, rouge_2: 0.5, rouge_l: 0.5, bleu4: 0.5 });
    assert.deepEqual(aggregateMetrics([]), { accuracy: 0, f1Score: 0, rouge_1: 0, rouge_2: 0, rouge_l: 0, bleu4: 0 });
  });
});
