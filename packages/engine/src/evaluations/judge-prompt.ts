/**
 * The judge model's prompt and the reading of its answer. The prompt fields follow Qianfan's
 * judge settings (`evalStandardConf.prompt`: templateContent, metric, steps, minScore, maxScore);
 * the default template follows Qianfan's own referee template (question, reference, answer,
 * metric, steps, integer score) in Chinese and English, and asks for JSON so that the answer can
 * be read without guessing.
 */

export interface JudgePrompt {
  /** Overrides the default template; see {@link renderJudgePrompt} for the placeholders. */
  templateContent?: string;
  /** What is scored; default "综合得分 (overall quality)". */
  metric?: string;
  /** How to score, usually numbered steps; default: Qianfan's four steps. */
  steps?: string;
  /** Lowest allowed score; default 1. */
  minScore?: number;
  /** Highest allowed score; default 10. */
  maxScore?: number;
}

const DEFAULT_JUDGE_METRIC = "综合得分 (overall quality)";

const DEFAULT_JUDGE_STEPS = [
  "1. 仔细阅读问题，理解问题的要求和背景。Read the question and understand what it asks.",
  "2. 仔细阅读标准答案。Read the reference answer.",
  "3. 阅读待评回答，检查是否有事实错误或用词不当。Check the answer for factual errors and wrong wording.",
  "4. 检查回答是否遵照题目要求，包括答题方式、长度和格式。Check that it follows the question's requirements: form, length and format.",
].join("\n");

const DEFAULT_JUDGE_TEMPLATE = `你是一名公正的评审员，请为下面问题的回答打分。
You are an impartial judge. Score the answer to the question below.

问题 / Question:
{question}

标准答案 / Reference answer:
{reference}

待评回答 / Answer to score:
{prediction}

评分指标 / Metric: {metric}

评分步骤 / Steps:
{steps}

请给出 {minScore} 到 {maxScore} 之间的整数评分：回答有明显错误或不合理之处给低分，与标准答案含义一致且符合题目要求给高分。
Give an integer score from {minScore} to {maxScore}: low for clear errors, high when the answer means the same as the reference and meets the requirements.

只输出一个 JSON 对象 / Reply with one JSON object only:
{"score": <整数 integer>, "reason": "<简短原因 short reason>"}`;

/** Every placeholder spelling accepted in a template, and the value it stands for. */
const PLACEHOLDERS = {
  src: "question", question: "question", prompt: "question",
  prediction: "prediction", response: "prediction",
  reference: "reference", target: "reference", tgt: "reference",
  metric: "metric", criteria: "metric",
  steps: "steps",
  minScore: "minScore", min_score: "minScore",
  maxScore: "maxScore", max_score: "maxScore",
} as const;

/**
 * Fills a judge template. Placeholders: {src} or {question} (also {prompt}), {prediction} (also
 * {response}), {reference}, {target} or {tgt}, {metric} (also {criteria}), {steps},
 * {minScore}/{min_score}, {maxScore}/{max_score}; the snake_case and {tgt}/{criteria}/{response}
 * spellings are those of Qianfan's SDK templates. Unknown braces are left as they are, and
 * substituted text is never scanned again, so a prediction containing "{reference}" cannot
 * pull the reference into the prompt.
 *
 * @example renderJudgePrompt({ templateContent: "Q: {src} A: {prediction} ({minScore}-{maxScore})" }, { question: "1+1?", prediction: "2", reference: "2" })
 * // "Q: 1+1? A: 2 (1-10)"
 */
export function renderJudgePrompt(prompt: JudgePrompt, sample: { question: string; prediction: string; reference: string }): string {
  const values: Record<(typeof PLACEHOLDERS)[keyof typeof PLACEHOLDERS], string> = {
    ...sample,
    metric: prompt.metric?.trim() || DEFAULT_JUDGE_METRIC,
    steps: prompt.steps?.trim() || DEFAULT_JUDGE_STEPS,
    minScore: String(prompt.minScore ?? 1),
    maxScore: String(prompt.maxScore ?? 10),
  };
  const template = prompt.templateContent?.trim() ? prompt.templateContent : DEFAULT_JUDGE_TEMPLATE;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(PLACEHOLDERS, name) ? values[PLACEHOLDERS[name as keyof typeof PLACEHOLDERS]] : whole,
  );
}

const NUMBER = String.raw`([+-]?\d+(?:\.\d+)?)`;
const SCORE_KEYS = ["score", "评分", "得分", "分数", "rating"];
// "评分：7", "Score: 7/10", "**Score**: 7", "得分为 7 分", "rating = 7".
const LABELLED = new RegExp(String.raw`(?:score|rating|评分|得分|分数|打分)[\s*]*(?:is|为|是)?[\s*]*[:：=]?[\s*]*${NUMBER}`, "i");
const OUT_OF = new RegExp(String.raw`${NUMBER}\s*(?:\/|out of|分?\s*[(（]?满分)\s*(\d+)`, "i");
const LONE = new RegExp(String.raw`^[\s*]*${NUMBER}\s*(?:分|points?)?[\s*.。!！]*$`, "i");

function scoreFromJson(text: string): number | undefined {
  const candidates = [text, ...(text.match(/\{[^{}]*\}/g) ?? [])];
  for (const candidate of candidates) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(candidate);
    } catch {
      continue;
    }
    if (typeof parsed !== "object" || parsed === null) continue;
    for (const [key, value] of Object.entries(parsed)) {
      if (!SCORE_KEYS.includes(key.toLowerCase())) continue;
      const n = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
      if (Number.isFinite(n)) return n;
    }
  }
  return undefined;
}

/**
 * Reads the score from a judge's answer, trying in order: a JSON object with a "score" (or
 * "评分"/"得分"/"rating") field, possibly inside a ```json fence or prose; a labelled number
 * ("评分：7", "Score: 7"); "7/10" or "7 out of 10" where 10 is `maxScore`; a lone number ("7",
 * "7分"). Reasoning models' <think>…</think> blocks are skipped first. Returns undefined when
 * no score is found; the range is not checked here.
 *
 * @example parseJudgeScore("评分：7\n原因：基本正确", 10) // 7
 */
export function parseJudgeScore(answer: string, maxScore: number): number | undefined {
  const text = answer.replace(/<think>[\s\S]*?<\/think>/gi, "").replace(/```(?:json)?/gi, "").trim();
  const json = scoreFromJson(text);
  if (json !== undefined) return json;
  const labelled = LABELLED.exec(text);
  if (labelled) return Number(labelled[1]);
  const outOf = OUT_OF.exec(text);
  if (outOf && Number(outOf[2]) === maxScore) return Number(outOf[1]);
  const lone = LONE.exec(text);
  return lone ? Number(lone[1]) : undefined;
}
