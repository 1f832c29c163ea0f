import { expectObject, expectText, expectTurns, fail, describeType } from "./checks.js";
import { checkAnswer, checkSingleAnswerTurn } from "./prompt-response.js";

/**
 * Qianfan's sorted conversation (V1 template 2001, V2 `PromptSortedresponses`): like
 * PromptResponse, but the last turn ranks two or more answers, best first:
 * `[{"prompt": "Q", "response": [["best"], ["second"]]}]`.
 *
 * @example checkPromptSortedResponses([{ prompt: "Q", response: [["best"], ["worse"]] }])
 */
export function checkPromptSortedResponses(value: unknown): number {
  const turns = expectTurns(value, '[{"prompt": "Q", "response": [["best"], ["second"]]}]');
  let characters = 0;
  const last = turns.length - 1;
  for (let i = 0; i < last; i++) characters += checkSingleAnswerTurn(turns[i], [i]);
  const object = expectObject(turns[last], [last], ["prompt", "response"], '{"prompt": "...", "response": [["best"], ["second"]]}');
  characters += expectText(object.prompt, [last, "prompt"]);
  const response = object.response;
  const at = [last, "response"];
  if (response === undefined) fail(at, "is required");
  if (!Array.isArray(response)) fail(at, `must be a list of ranked answers, like [["best"], ["second"]]; got ${describeType(response)}`);
  if (response.length < 2) fail(at, `the last turn must rank at least two answers (found ${response.length})`);
  response.forEach((answer, j) => {
    characters += checkAnswer(answer, [...at, j]);
  });
  return characters;
}
