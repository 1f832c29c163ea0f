import { test } from "node:test";
import assert from "node:assert/strict";
import { int, keyValues, list, parseFlags, suggest } from "./args.js";
import { UsageError } from "./errors.js";

const SPECS = { epoch: { type: "string" }, "learning-rate": { type: "string" }, dataset: { type: "string", multiple: true }, yes: { type: "boolean" } } as const;

test("suggest finds typos, swaps and prefixes, and nothing for unrelated words", () => {
  const names = Object.keys(SPECS);
  assert.equal(suggest("epoc", names), "epoch");
  assert.equal(suggest("eopch", names), "epoch");
  assert.equal(suggest("learning", names), "learning-rate");
  assert.equal(suggest("datset", names), "dataset");
  assert.equal(suggest("banana", names), undefined);
  assert.equal(suggest("x", names), undefined);
});

test("parseFlags refuses unknown options naming the command and the likely flag", () => {
  assert.throws(() => parseFlags("tasks create", ["--epoc", "3"], SPECS), (e: Error) =>
    e instanceof UsageError && e.message === "unknown option '--epoc' for `tasks create` (did you mean --epoch?)");
  assert.throws(() => parseFlags("tasks create", ["--zzz"], SPECS), /unknown option '--zzz' for `tasks create`; see `sailfin tasks create --help`/);
  assert.throws(() => parseFlags("tasks create", ["--epoch"], SPECS), /option --epoch of `tasks create` needs a value/);
  assert.throws(() => parseFlags("tasks create", ["--yes=1"], SPECS), /option --yes of `tasks create` takes no value/);
  const { flags, positionals } = parseFlags("tasks create", ["a", "--dataset", "x,y", "--dataset", "z", "--epoch=2"], SPECS);
  assert.deepEqual(positionals, ["a"]);
  assert.deepEqual(list(flags, "dataset"), ["x", "y", "z"]);
  assert.equal(int(flags, "epoch", { min: 1 }), 2);
});

test("typed reads: integers in range, key=value pairs typed", () => {
  assert.throws(() => int({ epoch: "1.5" }, "epoch"), /--epoch must be an integer, got '1.5'/);
  assert.throws(() => int({ epoch: "0" }, "epoch", { min: 1 }), /--epoch must be an integer ≥ 1, got '0'/);
  assert.deepEqual(keyValues({ param: ["a=1", "b=true", "c=cosine", "d=1e-3", "e="] }, "param"), { a: 1, b: true, c: "cosine", d: 0.001, e: "" });
  assert.throws(() => keyValues({ param: ["oops"] }, "param"), /--param takes key=value, got 'oops'/);
});
