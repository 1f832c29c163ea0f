import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { SailfinError } from "@sailfin/contract";
import { ChatRenderer, PipelineInputError, loadTokenizer, stopTokenIds, type ChatMessage, type LoadedTokenizer } from "@sailfin/data";
import type { EngineResources } from "../resources.js";
import { folderKey } from "../artifacts/run-files.js";
import { streamCompletion, type EngineCompletionRequest, type EngineDelta, type EngineUsage } from "./engine-client.js";
import type { ServingTarget } from "./find-serving.js";
import { noteServiceUse } from "./service-use.js";

/**
 * A chat call to a deployed model version: the conversation is rendered with the version's own
 * chat template and tokenizer (the code that trained it: `ChatRenderer`), the engine completes
 * the token ids, and the answer stops at the tokenizer's eos or an end-of-turn marker. Both chat
 * routes (V2 `/v2/chat/completions`, V1 `/rpc/2.0/…/chat/{endpoint}`) go through here.
 */

/**
 * What a chat call needs of a `ServingTarget`: the version (its tokenizer) and the engine (null:
 * not serving now); with the service, a call to an on-demand one keeps it from idling out.
 */
export type ChatTarget = Pick<ServingTarget, "modelVersion" | "endpoint"> & Partial<Pick<ServingTarget, "service">>;

export interface ChatParams {
  readonly messages: readonly ChatMessage[];
  /** 0: greedy. */
  readonly temperature: number;
  readonly topP: number;
  /** null: DEFAULT_MAX_TOKENS; either way no more than the model's length leaves. */
  readonly maxTokens: number | null;
  readonly stop: readonly string[];
  readonly seed?: number;
  readonly repetitionPenalty: number;
}

interface ChatCall {
  readonly promptTokens: number;
  /** The answer's text deltas; the return value is the usage. */
  readonly deltas: AsyncGenerator<EngineDelta, EngineUsage>;
}

/** The answer length when the caller names none: long enough for a chat turn, short enough to come back soon. */
const DEFAULT_MAX_TOKENS = 512;
/** Model length assumed when the version's config.json names none. */
const FALLBACK_MODEL_LEN = 2048;
/** The files a chat call reads of a version (never the weights). */
const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "config.json"];
/** Versions whose tokenizers are kept loaded; the least recently used goes first. */
const TOKENIZERS_KEPT = 16;

interface VersionTokenizer {
  readonly tok: LoadedTokenizer;
  readonly renderer: ChatRenderer;
  readonly stopIds: readonly number[];
  readonly maxModelLen: number;
}

/** One cache per database handle (two servers in one test process never share). */
const caches = new WeakMap<object, Map<string, Promise<VersionTokenizer>>>();

/**
 * Starts a chat call. Throws ModelNotServing when the target has no engine now, InvalidParameter
 * (field `messages`) when the template refuses the conversation or it leaves no room to answer.
 */
export async function startChat(res: EngineResources, target: ChatTarget, params: ChatParams, signal: AbortSignal): Promise<ChatCall> {
  const endpoint = target.endpoint;
  if (endpoint === null) throw new SailfinError("ModelNotServing");
  if (target.service !== undefined) await noteServiceUse(res, target.service);
  const version = await versionTokenizer(res, target.modelVersion);
  let promptIds: number[];
  try {
    promptIds = version.tok.encode(version.renderer.render(params.messages, true));
  } catch (error) {
    if (error instanceof PipelineInputError) throw new SailfinError("InvalidParameter", { field: "messages", detail: error.message });
    throw error;
  }
  const room = version.maxModelLen - promptIds.length;
  if (room < 1) {
    throw new SailfinError("InvalidParameter", {
      field: "messages", detail: `the conversation is ${promptIds.length} tokens; the model takes at most ${version.maxModelLen - 1} with room to answer`,
    });
  }
  const maxTokens = Math.min(params.maxTokens ?? DEFAULT_MAX_TOKENS, room);
  const request: EngineCompletionRequest = {
    promptIds, maxTokens, temperature: params.temperature, topP: params.topP,
    ...(params.seed === undefined ? {} : { seed: params.seed }),
    stop: params.stop, stopTokenIds: version.stopIds, repetitionPenalty: params.repetitionPenalty,
  };
  const deltas = streamCompletion(endpoint, request, signal);
  return { promptTokens: promptIds.length, deltas };
}

function versionTokenizer(res: EngineResources, version: ChatTarget["modelVersion"]): Promise<VersionTokenizer> {
  let cache = caches.get(res.db);
  if (cache === undefined) caches.set(res.db, (cache = new Map()));
  const known = cache.get(version.id);
  if (known !== undefined) {
    // Most recently used last: Map keeps insertion order.
    cache.delete(version.id);
    cache.set(version.id, known);
    return known;
  }
  const loading = loadVersionTokenizer(res, version.artifactPath);
  cache.set(version.id, loading);
  // A failed load (the store unreachable) is not kept: the next call tries again.
  loading.catch(() => cache.delete(version.id));
  while (cache.size > TOKENIZERS_KEPT) cache.delete(cache.keys().next().value!);
  return loading;
}

/** Reads the version's tokenizer files from the store (in place when it is a local folder). */
async function loadVersionTokenizer(res: EngineResources, artifactPath: string): Promise<VersionTokenizer> {
  const folder = folderKey(artifactPath);
  const local = res.artifacts.localPath(folder.replace(/\/$/, ""));
  let dir = local;
  if (dir === null) {
    dir = await mkdtemp(join(tmpdir(), "sailfin-tokenizer-"));
    for (const name of TOKENIZER_FILES) {
      if ((await res.artifacts.stat(`${folder}${name}`)) === null) continue;
      await writeFile(join(dir, name), await text(await res.artifacts.get(`${folder}${name}`)));
    }
  }
  try {
    const tok = await loadTokenizer(dir);
    const renderer = new ChatRenderer({ template: tok.chatTemplate, tokens: tok.templateTokens, addedTokens: tok.addedTokens });
    const config = await readFile(join(dir, "config.json"), "utf8").then((t) => JSON.parse(t) as { max_position_embeddings?: unknown }).catch(() => ({}));
    const len = (config as { max_position_embeddings?: unknown }).max_position_embeddings;
    return { tok, renderer, stopIds: stopTokenIds(tok), maxModelLen: typeof len === "number" && len > 1 ? len : FALLBACK_MODEL_LEN };
  } catch (error) {
    if (error instanceof PipelineInputError) throw new SailfinError("InternalError", { detail: `the model version's tokenizer: ${error.message}`, cause: error });
    throw error;
  } finally {
    if (local === null) await rm(dir, { recursive: true, force: true });
  }
}

/** Resolves a V2 `model` or V1 endpoint to what serves it (`findServingTarget`, serving/find-serving.ts); null: no such service. */
export type FindChatTarget = (res: EngineResources, model: string) => Promise<ChatTarget | null>;
