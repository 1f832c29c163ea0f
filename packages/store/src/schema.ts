import type { DatasetVersionState } from "@sailfin/contract";
import type { Generated } from "kysely";

/**
 * Row types of every table. Times are UTC ISO-8601 strings with milliseconds in both dialects;
 * JSON columns are text (SQLite has no JSON type, and we never query inside them).
 * `num` is each table's keyset order and the V1 numeric id; `id` is the public prefixed id.
 */
export interface Database {
  access_keys: AccessKeyTable;
  access_tokens: AccessTokenTable;
  dataset_groups: DatasetGroupTable;
  dataset_versions: DatasetVersionTable;
  dataset_imports: DatasetImportTable;
  finetune_jobs: FinetuneJobTable;
  runs: RunTable;
  run_checkpoints: RunCheckpointTable;
  run_metrics: RunMetricTable;
  model_sets: ModelSetTable;
  model_versions: ModelVersionTable;
  eval_results: EvalResultTable;
  eval_manual_scores: EvalManualScoreTable;
  events: EventTable;
  webhooks: WebhookTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_cursor: WebhookCursorTable;
  console_sessions: ConsoleSessionTable;
  workers: WorkerTable;
  services: ServiceTable;
  service_endpoints: ServiceEndpointTable;
  bearer_tokens: BearerTokenTable;
  openai_files: OpenAiFileTable;
  openai_jobs: OpenAiJobTable;
}

interface AccessKeyTable {
  num: Generated<number>;
  access_key: string;
  /** AES-256-GCM ciphertext of the secret key (bce-auth-v1 needs the secret itself). */
  secret_enc: string;
  /** JSON array of policy names. */
  policies: string;
  description: string;
  created_at: string;
}

interface AccessTokenTable {
  /** sha256 of the token: a stolen database does not yield usable tokens. */
  token_hash: string;
  access_key: string;
  created_at: string;
  expires_at: string;
}

export interface DatasetGroupTable {
  num: Generated<number>;
  id: string;
  name: string;
  /** Internal format name (see data/formats). */
  data_format: string;
  project_type: number;
  template_type: number;
  data_type: number;
  storage_type: string;
  storage_path: string;
  created_at: string;
  modified_at: string;
}

export interface DatasetVersionTable {
  num: Generated<number>;
  id: string;
  group_num: number;
  version: number;
  description: string;
  /** Its lifecycle, in its events' words (migration 0007; the V1 codes are rendered from it). */
  state: DatasetVersionState;
  import_progress: number;
  record_count: number;
  char_count: number;
  byte_size: number;
  error_count: number;
  /** JSON: `{errors: [{line, field, reason}], truncated: n}` from the last import. */
  validation_report: string | null;
  /** sha256 of the released content; null until released. */
  content_hash: string | null;
  /** Artifact key of the imported JSONL. */
  data_path: string | null;
  released_at: string | null;
  created_at: string;
  modified_at: string;
}

export interface DatasetImportTable {
  num: Generated<number>;
  id: string;
  version_num: number;
  /** JSON array of source URIs. */
  files: string;
  status: string;
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

export interface FinetuneJobTable {
  num: Generated<number>;
  id: string;
  name: string;
  description: string;
  /** Base model name (a model set name). */
  model: string;
  train_mode: string;
  parameter_scale: string | null;
  base_train_type: string;
  created_at: string;
  modified_at: string;
}

export interface RunTable {
  num: Generated<number>;
  id: string;
  kind: string;
  job_num: number;
  description: string;
  status: string;
  /** What a fine-tuning run trains (SFT, DPO, …), repeated on its publish runs; '' for runs that train nothing. */
  train_mode: string;
  /** LoRA or FullFineTuning, as train_mode; '' for runs that train nothing. */
  parameter_scale: string;
  /** The model version the run reads (a fine-tuning run's base): pinned against deletion while the run is active. */
  base_model_version_num: number;
  /** JSON: the fully resolved, frozen configuration. */
  spec: string;
  /** JSON: `{versionId: contentHash}` of every dataset version used. */
  dataset_hashes: string;
  /** The run and checkpoint step an incremental fine-tuning run starts from; null otherwise. */
  increment_run_num: number | null;
  increment_step: number | null;
  /** The run whose outcome this one reads (an export's evaluation; migration 0006); null otherwise. */
  reads_run_num: number | null;
  /** The dataset version a dataset export reads (migration 0009); null otherwise. */
  dataset_version_num: number | null;
  progress: number;
  cancel_requested: number;
  priority: number;
  attempt: number;
  max_attempts: number;
  available_at: string;
  lease_owner: string | null;
  lease_token: string | null;
  lease_expires_at: string | null;
  failure_kind: string | null;
  failure_reason: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** User-given name (compression, evaluation); '' for fine-tuning and publish runs. */
  name: Generated<string>;
  /** JSON outcome of a finished compression, evaluation or export; null otherwise. */
  result: string | null;
  /** The resource pool the run was queued for (migration 0008): workers claim only their pools' runs. */
  pool_id: Generated<string>;
  /** Nodes and ranks a node the run executes on (1 and 1 but for multi-rank training). */
  node_num: Generated<number>;
  processes_per_node: Generated<number>;
  /** The executor's id of the run's current job (a Slurm job id), once it started or adopted one; null otherwise. */
  executor_job_id: string | null;
  /** The service a `serve` or `batch-inference` run belongs to (migration 0010); null otherwise. */
  service_num: number | null;
  /** 1: a caller asked to pause it while Running (migration 0012); the worker records Paused. */
  pause_requested: Generated<number>;
}

/** An inference service (migration 0010): one deployed model version. */
export interface ServiceTable {
  num: Generated<number>;
  id: string;
  name: string;
  description: Generated<string>;
  /** The V1 endpoint and V2 chat `model`; unique. */
  url_suffix: string;
  service_type: string;
  model_set_num: number;
  model_version_num: number;
  /** JSON: the request's `resourceConfig` (echoed), with the pool it resolved to. */
  resource_config: string;
  pool_id: string;
  /** The `serve` run serving it now; null before one was queued. */
  run_num: number | null;
  /** `Serving` or `Stopped`: what the owner last asked for. */
  desired: string;
  creator: string;
  created_at: string;
  modified_at: string;
  /** Stop after this many seconds without a call (migration 0012: services started on demand); null: never. */
  idle_stop_s: number | null;
  /** The last chat call's time; null: none yet. */
  last_used_at: string | null;
}

/** Where a serving run's engine answers (migration 0010); valid only for `attempt` = the run's attempt. */
export interface ServiceEndpointTable {
  run_num: number;
  attempt: number;
  url: string;
  /** The engine's bearer secret, sealed (SecretBox); null when the engine takes none. */
  api_key_enc: string | null;
  served_model_name: string;
  engine: string;
  ready_at: string;
}

/** A bearer token or API key (migration 0010): only the SHA-256 of the token is kept. */
export interface BearerTokenTable {
  num: Generated<number>;
  token_hash: string;
  /** `bearer` (expires) or `api-key`. */
  kind: string;
  access_key: string;
  description: Generated<string>;
  created_at: string;
  expires_at: string | null;
}

export interface RunCheckpointTable {
  num: Generated<number>;
  run_num: number;
  step: number;
  path: string;
  train_loss: number | null;
  eval_loss: number | null;
  created_at: string;
}

interface RunMetricTable {
  num: Generated<number>;
  run_num: number;
  step: number;
  epoch: number | null;
  loss: number | null;
  lr: number | null;
  grad_norm: number | null;
  /** Trained (non-masked) tokens per second. */
  tokens_per_s: number | null;
  eval_loss: number | null;
  at: string;
}

export interface ModelSetTable {
  num: Generated<number>;
  id: string;
  name: string;
  model_type: string;
  source: string;
  labels: string;
  description: string;
  created_at: string;
  modified_at: string;
}

export interface ModelVersionTable {
  num: Generated<number>;
  id: string;
  set_num: number;
  version: number;
  description: string;
  source_type: string;
  source_run_num: number | null;
  source_step: number | null;
  source_comp_num: number | null;
  import_bucket: string | null;
  import_object: string | null;
  status: string;
  fail_reason: string | null;
  architecture: string | null;
  /** JSON summary of config.json (hidden size, layers, vocab, max positions, chat template presence). */
  config_summary: string | null;
  artifact_path: string | null;
  size_bytes: number;
  created_at: string;
  modified_at: string;
}

/** One generated answer of an evaluation: a model version (unit) on one dataset sample. */
export interface EvalResultTable {
  num: Generated<number>;
  eval_run_num: number;
  unit_index: number;
  model_version_num: number;
  sample_index: number;
  prompt: string;
  prediction: string;
  reference: string;
  finish_reason: string;
  /** JSON rule metrics of this sample. */
  metrics: string;
  judge_score: number | null;
  judge_error: string | null;
  created_at: string;
}

/** One person's score of one evaluation answer on one dimension (manual evaluation, migration 0011). */
interface EvalManualScoreTable {
  num: Generated<number>;
  eval_run_num: number;
  /** The scored answer (`eval_results.num`). */
  result_num: number;
  dimension: string;
  score: number;
  /** The access key that scored it. */
  scorer: string;
  created_at: string;
}

interface EventTable {
  num: Generated<number>;
  object_kind: string;
  object_id: string;
  at: string;
  actor: string;
  from_state: string | null;
  to_state: string;
  reason: string | null;
}

/** A webhook registration (Sailfin extension), owned by one access key. */
export interface WebhookTable {
  num: Generated<number>;
  id: string;
  access_key: string;
  url: string;
  /** AES-256-GCM ciphertext of the signing secret (the HMAC needs the secret itself). */
  secret_enc: string;
  /** JSON array of webhook object kinds (`task`, `model_version`, `compression`, `evaluation`, `export`, `fine_tuning_job`). */
  object_kinds: string;
  description: Generated<string>;
  /** Newest `events.num` at registration: only later events are delivered. */
  from_event_num: number;
  /** 0 once its access key is gone. */
  active: number;
  created_at: string;
}

/** One event to one webhook, with its retry state; unique per (webhook, event). */
interface WebhookDeliveryTable {
  num: Generated<number>;
  id: string;
  webhook_num: number;
  event_num: number;
  /** `pending` | `delivered` | `failed`. */
  status: string;
  /** Attempts started (a claim counts one). */
  attempts: number;
  /** When a pending delivery is due; while an attempt is in flight, when its claim lapses. */
  next_attempt_at: string;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

/** How far the webhook fan-out has read `events` (one row, `name = 'events'`). */
interface WebhookCursorTable {
  name: string;
  event_num: number;
  updated_at: string;
}

interface ConsoleSessionTable {
  /** sha256 (hex) of the `sailfin_session` cookie's token: a stolen database yields no cookie. */
  token_hash: string;
  /** The key the session acts for; its row is read at every use (a deleted key ends the session). */
  access_key: string;
  /** Sent back in `X-Sailfin-CSRF` on every mutating request; worthless without the cookie. */
  csrf_token: string;
  created_at: string;
  expires_at: string;
  /** Refreshed at most once a minute, so reads do not each cost a write. */
  last_seen_at: string;
}

/** A live worker process (migration 0005): the describe routes read it to say why a task waits. */
interface WorkerTable {
  /** The worker's id, also its `lease_owner` on the runs it claims. */
  id: string;
  /** The run kinds its slots take, comma-separated (`finetune,publish,compress,…`). */
  kinds: string;
  host: string;
  pid: number;
  started_at: string;
  heartbeat_at: string;
  /** Past this the worker counts as gone (it stopped heartbeating). */
  expires_at: string;
  /** The resource pools it serves, comma-separated; '' for any pool (migration 0008). */
  pools: Generated<string>;
}

/** An OpenAI `POST /v1/files` upload (migration 0012). */
interface OpenAiFileTable {
  num: Generated<number>;
  /** `file-…`. */
  id: string;
  purpose: string;
  filename: string;
  bytes: number;
  /** `uploaded`, `processed` or `error`. */
  status: string;
  status_details: string | null;
  /** Where the raw bytes are in the artifact store. */
  object_key: string;
  /** `chat` or `preference` for a validated fine-tune file; null otherwise. */
  data_kind: string | null;
  line_count: Generated<number>;
  /** The Released dataset version holding the file's records (fine-tune files). */
  dataset_version_num: number | null;
  creator: string;
  created_at: string;
  expires_at: string | null;
}

/** A fine-tuning job created through OpenAI's dialect (migration 0012): a V2 job and its one task. */
interface OpenAiJobTable {
  num: Generated<number>;
  /** `ftjob-…`. */
  id: string;
  job_num: number;
  run_num: number;
  /** The `model` the caller named. */
  model: string;
  training_file_num: number;
  validation_file_num: number | null;
  /** JSON: `method` with every `auto` resolved. */
  method: string;
  suffix: string | null;
  seed: number;
  /** JSON object or null. */
  metadata: string | null;
  /** JSON array. */
  integrations: string;
  organization: string;
  /** The last part of `fine_tuned_model`. */
  model_key: string;
  /** `ft:<base>:<org>:<suffix>:<model_key>`. */
  fine_tuned_model: string;
  /** The version published from the run; null until the run succeeded. */
  model_version_num: number | null;
  /** The metrics CSV (`fine-tune-results`), once the job ended. */
  result_file_num: number | null;
  creator: string;
  created_at: string;
}
