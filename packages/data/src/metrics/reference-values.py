"""Reference values for metrics.test.ts, from NLTK and Google's rouge-score.

The token lists are what `metricTokens` returns for the texts in metrics.test.ts (the test checks
that too), so both libraries score exactly the tokens Sailfin scores. rouge-score gets them
through a tokenizer that splits on the single spaces they were joined with, which bypasses its
own ASCII-only tokenizer.

Re-run:
    python3 -m venv /tmp/metrics-venv && /tmp/metrics-venv/bin/pip install nltk rouge-score
    /tmp/metrics-venv/bin/python packages/data/src/metrics/reference-values.py
(the numbers in metrics.test.ts came from nltk 3.10.4 and rouge-score 0.1.2).
"""

from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
from rouge_score import rouge_scorer


class SpaceTokenizer:
    def tokenize(self, text):
        return text.split(" ") if text else []


# name -> (prediction tokens, reference token lists); ROUGE uses the first reference.
EXAMPLES = {
    "en-paraphrase": (
        "the cat sat on the mat".split(),
        ["the cat is sitting on the mat".split()],
    ),
    "en-three-references": (
        "it is a guide to action which ensures that the military always obeys the commands of the party".split(),
        [
            "it is a guide to action that ensures that the military will forever heed party commands".split(),
            "it is the guiding principle which guarantees the military forces always being under the command of the party".split(),
            "it is the practical guide for the army always to heed the directions of the party".split(),
        ],
    ),
    "en-short-hypothesis": (
        "the cat".split(),
        ["the cat is on the mat".split()],
    ),
    "zh-paraphrase": (
        list("今天北京的天气很好适合出去散步"),
        [list("北京今天天气不错很适合散步")],
    ),
    "zh-paraphrase-default-stop-words": (
        list("今天北京天气很好适合出去散步"),
        [list("北京今天天气不错很适合散步")],
    ),
    "zh-two-references": (
        list("机器学习是人工智能的一个分支"),
        [list("机器学习是人工智能的一个重要分支"), list("机器学习属于人工智能领域")],
    ),
    "mixed": (
        ["我", "有", "3", "个", "apple", "和", "2", "个", "orange"],
        [["我", "有", "3", "个", "apple", "还", "有", "两", "个", "橙", "子"]],
    ),
}

scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], tokenizer=SpaceTokenizer())
smoothing = SmoothingFunction().method1
for name, (prediction, references) in EXAMPLES.items():
    bleu = sentence_bleu(references, prediction, smoothing_function=smoothing)
    r = scorer.score(" ".join(references[0]), " ".join(prediction))
    print(
        f'  "{name}": {{ bleu4: {bleu!r}, rouge1: {r["rouge1"].fmeasure!r}, '
        f'rouge2: {r["rouge2"].fmeasure!r}, rougeL: {r["rougeL"].fmeasure!r} }},'
    )
