import { expectObject, expectText, expectTurns, fail } from "./checks.js";

/**
 * Preference pairs (V1 template 2002, V2 `DPO_PromptChosenRejected` and
 * `KTO_PromptChosenRejected`): earlier turns `{user, assistant}` give the context, the last turn
 * `{user, chosen, rejected}` the preferred and the dispreferred answer.
 *
 * @example checkPromptChosenRejected([{ user: "Q", chosen: "good", rejected: "bad" }])
 */
export function checkPromptChosenRejected(value: unknown): number {
  const turns = expectTurns(value, '[{"user": "Q", "chosen": "good", "rejected": "bad"}]');
  let characters = 0;
  const last = turns.length - 1;
  for (let i = 0; i < last; i++) {
    const turn = expectObject(turns[i], [i], ["user", "assistant"], '{"user": "...", "assistant": "..."} (an earlier turn)');
    characters += expectText(turn.user, [i, "user"]);
    characters += expectText(turn.assistant, [i, "assistant"]);
  }
  const turn = expectObject(turns[last], [last], ["user", "chosen", "rejected"], '{"user": "...", "chosen": "...", "rejected": "..."} (the last turn)');
  characters += expectText(turn.user, [last, "user"]);
  characters += expectText(turn.chosen, [last, "chosen"]);
  characters += expectText(turn.rejected, [last, "rejected"]);
  // Identical answers carry no preference signal: almost always a copy-paste slip.
  if (turn.chosen === turn.rejected) fail([last, "rejected"], "must differ from chosen");
  return characters;
}
