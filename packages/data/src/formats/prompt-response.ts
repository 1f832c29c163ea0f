import { expectObject, expectText, expectTurns, fail, describeType, type JsonPath } from "./checks.js";

/**
 * Qianfan's non-sorted conversation (V1 template 2000, V2 `PromptResponse`): one JSON array
 * per line, each turn `{"prompt": "...", "response": [["..."]]}`. A turn may also carry
 * `completion`, a model's answer: an evaluation's result dataset holds it, and an
 * `inferDataset` evaluation scores it; training ignores it.
 *
 * @example checkPromptResponse([{ prompt: "你好", response: [["你好！"]] }]) // 5 characters
 */
export function checkPromptResponse(value: unknown): number {
  const turns = expectTurns(value, '[{"prompt": "Q", "response": [["A"]]}]');
  let characters = 0;
  turns.forEach((turn, i) => {
    characters += checkSingleAnswerTurn(turn, [i], true);
  });
  return characters;
}

/** One `{prompt, response: [["answer"]]}` turn; shared with the sorted format's earlier turns. */
export function checkSingleAnswerTurn(turn: unknown, path: JsonPath, withCompletion = false): number {
  const object = expectObject(turn, path, withCompletion ? ["prompt", "response", "completion"] : ["prompt", "response"], '{"prompt": "...", "response": [["..."]]}');
  let characters = expectText(object.prompt, [...path, "prompt"]);
  if (object.completion !== undefined && typeof object.completion !== "string") {
    fail([...path, "completion"], `must be a string (a model's answer); got ${describeType(object.completion)}`);
  }
  const response = object.response;
  const at = [...path, "response"];
  if (response === undefined) fail(at, "is required");
  if (!Array.isArray(response)) fail(at, `must be a list holding one list of one string, like [["answer"]]; got ${describeType(response)}`);
  if (response.length !== 1) {
    fail(at, `must hold exactly one answer, like [["answer"]] (found ${response.length}); ranked answers belong in PromptSortedResponses`);
  }
  characters += checkAnswer(response[0], [...at, 0]);
  return characters;
}

/** `["answer"]`: a list of exactly one non-empty string. */
export function checkAnswer(answer: unknown, path: JsonPath): number {
  if (!Array.isArray(answer)) fail(path, `must be a list of one string, like ["answer"]; got ${describeType(answer)}`);
  if (answer.length !== 1) fail(path, `must be a list of exactly one string (found ${answer.length})`);
  return expectText(answer[0], [...path, 0]);
}
