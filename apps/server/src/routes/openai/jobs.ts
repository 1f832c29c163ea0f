import type { FastifyInstance, FastifyRequest } from "fastify";
import { CreateOpenAiJobBody, OpenAiCursorQuery, SailfinError, parseWith } from "@sailfin/contract";
import {
  cancelFineTuningJob, createFineTuningJob, listFineTuningJobCheckpoints, listFineTuningJobEvents, listFineTuningJobs, pauseFineTuningJob,
  resumeFineTuningJob, retrieveFineTuningJob,
  type EngineResources,
} from "@sailfin/engine";

/**
 * OpenAI's fine-tuning jobs (`/v1/fine_tuning/jobs…`, design reference §3) over V2 jobs and
 * tasks: thin handlers (parse → engine → OpenAI's shape). Errors render in OpenAI's envelope
 * (render.ts sendOpenAiError); API keys (`Authorization: Bearer`) and signed requests both work.
 */
const WRITE = { dialect: "openai", iam: "tuning:write", bearer: true } as const;
const READ = { dialect: "openai", iam: "tuning:read", bearer: true } as const;

/** Default and largest `limit` per list (reference §1.2: jobs and events 20, checkpoints 10; clamped at 100). */
const MAX_LIMIT = 100;

/** A schema refusal as OpenAI's one-sentence message naming the field (`training_file is required`); `param` keeps the path. */
function parseOpenAi<T>(schema: Parameters<typeof parseWith<T>>[0], input: unknown): T {
  try {
    return parseWith(schema, input);
  } catch (error) {
    if (!(error instanceof SailfinError) || error.field === undefined) throw error;
    throw new SailfinError(error.id, { field: error.field, detail: `${error.field} ${error.detail ?? "is invalid"}` });
  }
}

function page(request: FastifyRequest, defaultLimit: number): { after?: string; limit: number } {
  const query = parseOpenAi(OpenAiCursorQuery, pick(request.query, ["after", "limit"]));
  return { ...(query.after === undefined ? {} : { after: query.after }), limit: Math.min(MAX_LIMIT, query.limit ?? defaultLimit) };
}

function pick(query: unknown, keys: readonly string[]): Record<string, unknown> {
  const all = (query ?? {}) as Record<string, unknown>;
  return Object.fromEntries(keys.filter((k) => all[k] !== undefined).map((k) => [k, all[k]]));
}

/** `metadata[key]=value` query pairs (the SDKs' bracket notation). */
function metadataFilters(query: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    const name = /^metadata\[(.+)\]$/.exec(key)?.[1];
    if (name !== undefined && typeof value === "string") out[name] = value;
  }
  return out;
}

const caller = (request: FastifyRequest) => ({ accessKey: request.sailfin!.caller!.accessKey });
const idOf = (request: FastifyRequest) => (request.params as { id: string }).id;

export function registerOpenAiJobs(app: FastifyInstance, res: EngineResources, options: { readonly organization: string }): void {
  app.post("/v1/fine_tuning/jobs", { config: { access: WRITE } }, async (request) => {
    const body = parseOpenAi(CreateOpenAiJobBody, request.body ?? {});
    return createFineTuningJob(res, caller(request), { body, organization: options.organization });
  });
  app.get("/v1/fine_tuning/jobs", { config: { access: READ } }, async (request) => {
    const { data, hasMore } = await listFineTuningJobs(res, { ...page(request, 20), metadata: metadataFilters(request.query) });
    return { object: "list", data, has_more: hasMore };
  });
  app.get("/v1/fine_tuning/jobs/:id", { config: { access: READ } }, async (request) => retrieveFineTuningJob(res, idOf(request)));
  app.post("/v1/fine_tuning/jobs/:id/cancel", { config: { access: WRITE } }, async (request) => cancelFineTuningJob(res, caller(request), idOf(request)));
  app.post("/v1/fine_tuning/jobs/:id/pause", { config: { access: WRITE } }, async (request) => pauseFineTuningJob(res, caller(request), idOf(request)));
  app.post("/v1/fine_tuning/jobs/:id/resume", { config: { access: WRITE } }, async (request) => resumeFineTuningJob(res, caller(request), idOf(request)));
  app.get("/v1/fine_tuning/jobs/:id/events", { config: { access: READ } }, async (request) => {
    const { data, hasMore } = await listFineTuningJobEvents(res, idOf(request), page(request, 20));
    return { object: "list", data, has_more: hasMore };
  });
  app.get("/v1/fine_tuning/jobs/:id/checkpoints", { config: { access: READ } }, async (request) => {
    const { data, hasMore } = await listFineTuningJobCheckpoints(res, idOf(request), page(request, 10));
    return { object: "list", data, has_more: hasMore, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
  });
}
