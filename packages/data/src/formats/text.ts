import { describeType, expectText, fail, isObject } from "./checks.js";

/**
 * Generic text for post-pretraining (V1 template 40100, V2 `Text`): one JSON object per line
 * with exactly one string field, whatever its name (`{"text": "..."}`).
 *
 * @example checkText({ text: "床前明月光" }) // 5
 */
export function checkText(value: unknown): number {
  if (!isObject(value)) fail([], `must be a JSON object with one text field, like {"text": "..."}; got ${describeType(value)}`);
  const keys = Object.keys(value);
  if (keys.length === 0) fail([], 'must hold one text field, like {"text": "..."}');
  if (keys.length > 1) fail([keys[1]!], `unexpected second field: a Text line holds exactly one field (found ${keys.join(", ")})`);
  return expectText(value[keys[0]!], [keys[0]!]);
}
