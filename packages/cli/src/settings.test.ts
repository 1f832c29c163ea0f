import { test } from "node:test";
import assert from "node:assert/strict";
import { configPath, resolveSettings, type ConfigFile } from "./settings.js";

const config: ConfigFile = {
  profiles: {
    default: { baseUrl: "http://default:1", accessKey: "ak-default", secretKey: "sk-default" },
    prod: { baseUrl: "http://prod:2/", accessKey: "ak-prod", secretKey: "sk-prod" },
  },
};
const resolve = (flags: { profile?: string; baseUrl?: string }, env: Record<string, string>, file = config) => resolveSettings({ flags, env, config: file, path: "/c.json" });

test("config path: SAILFIN_CONFIG, then XDG_CONFIG_HOME, then ~/.config", () => {
  assert.equal(configPath({ SAILFIN_CONFIG: "/x/c.json", XDG_CONFIG_HOME: "/xdg" }), "/x/c.json");
  assert.equal(configPath({ XDG_CONFIG_HOME: "/xdg", HOME: "/h" }), "/xdg/sailfin/config.json");
  assert.equal(configPath({ HOME: "/h", XDG_CONFIG_HOME: "" }), "/h/.config/sailfin/config.json");
});

test("precedence: flags > QIANFAN_* > the implicit profile > defaults; an explicit --profile is a flag", () => {
  const env = { QIANFAN_ACCESS_KEY: "ak-env", QIANFAN_SECRET_KEY: "sk-env" };
  const fromEnv = resolve({}, env);
  assert.equal(fromEnv.accessKey, "ak-env");
  assert.equal(fromEnv.baseUrl, "http://default:1", "the default profile fills what the variables leave out");
  assert.deepEqual(fromEnv.sources.secretKey, { kind: "env", name: "QIANFAN_SECRET_KEY" });
  const explicit = resolve({ profile: "prod" }, env);
  assert.equal(explicit.secretKey, "sk-prod");
  assert.equal(explicit.baseUrl, "http://prod:2", "trailing slashes dropped");
  assert.equal(resolve({ profile: "prod", baseUrl: "http://flag:3" }, env).baseUrl, "http://flag:3");
  assert.equal(resolve({}, { SAILFIN_PROFILE: "prod" }).accessKey, "ak-prod");
  assert.equal(resolve({}, { SAILFIN_PROFILE: "prod", QIANFAN_SECRET_KEY: "sk-env" }).secretKey, "sk-env");
  assert.equal(resolve({}, { QIANFAN_ACCESS_KEY: "a", QIANFAN_SECRET_KEY: "s" }, { profiles: {} }).baseUrl, "http://127.0.0.1:8866");
});

test("missing pairs and unknown profiles are one-line errors naming the fix", () => {
  assert.throws(() => resolve({}, {}, { profiles: {} }), /set QIANFAN_ACCESS_KEY and QIANFAN_SECRET_KEY .* or run `sailfin login`/);
  assert.throws(() => resolve({}, { QIANFAN_ACCESS_KEY: "a", QIANFAN_SECRET_KEY: "" }, { profiles: {} }), /no credentials/);
  assert.throws(() => resolve({ profile: "nope" }, {}), /no profile "nope" in \/c\.json: run `sailfin login --profile nope`/);
  assert.throws(() => resolve({}, { SAILFIN_PROFILE: "nope" }), /no profile "nope" \(SAILFIN_PROFILE\)/);
});
