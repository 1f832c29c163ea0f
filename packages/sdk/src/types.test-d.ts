/**
 * Type tests of the public surface: compiled by `tsc -b` with the package (never run), so a
 * type regression fails the build. `Equals` is exact (not mere assignability), and every
 * `@ts-expect-error` line must stay an error or tsc reports the directive as unused.
 */
import type {
  Action, BodyInput, CompTaskItem, ConsoleSession, CreateDatasetBody, CreateFineTuningTaskBody, CreateFineTuningTaskResult, CreatedAccessKey,
  DatasetItem, DescribeFineTuningJobsResult, EvalExportTask, EvalTaskDetail, FineTuningJobItem, FineTuningMetricPoint,
  FineTuningTaskDetail, FineTuningTaskMetrics, ModelVersionDetail, PageInfo, PolicyName, UploadObjectResult, V2RunStatus,
} from "@sailfin/contract/api";
import {
  Paginated, SailfinApiError, SailfinClient, SailfinNetworkError, type ChatCompletion, type ChatStreamEvent, type DownloadStream, type DownloadedFile,
  type FetchLike, type ServiceItem,
} from "./index.js";

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function expectType<T extends true>(): void {}
type Result<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>;
type ItemOf<I> = I extends AsyncIterable<infer T> ? T : never;

export function typeTests(client: SailfinClient): void {
  // Results are the contract's types, the ones the server's renderers are annotated with.
  expectType<Equals<Result<typeof client.tasks.describe>, FineTuningTaskDetail>>();
  expectType<Equals<Result<typeof client.tasks.create>, CreateFineTuningTaskResult>>();
  expectType<Equals<Result<typeof client.tasks.metrics>, FineTuningTaskMetrics>>();
  expectType<Equals<Result<typeof client.models.describe>, ModelVersionDetail>>();
  expectType<Equals<Result<typeof client.compression.describe>, CompTaskItem>>();
  expectType<Equals<Result<typeof client.evaluations.describe>, EvalTaskDetail>>();
  expectType<Equals<Result<typeof client.exports.describe>, EvalExportTask>>();
  expectType<Equals<Result<typeof client.exports.download>, DownloadedFile>>();
  expectType<Equals<Result<typeof client.services.describe>, ServiceItem>>();
  expectType<Equals<ItemOf<ReturnType<typeof client.services.list>>, ServiceItem>>();
  expectType<Equals<Result<typeof client.chat.completions>, ChatCompletion>>();
  expectType<Equals<ItemOf<ReturnType<typeof client.chat.stream>>, ChatStreamEvent>>();
  expectType<Equals<Result<typeof client.exports.stream>, DownloadStream>>();
  expectType<Equals<Result<typeof client.keys.create>, CreatedAccessKey>>();
  expectType<Equals<Result<typeof client.datasets.upload>, UploadObjectResult>>();
  expectType<Equals<Result<typeof client.models.upload>, UploadObjectResult>>();
  expectType<Equals<Result<typeof client.evaluations.create>, string>>();
  expectType<Equals<Result<typeof client.jobs.delete>, void>>();
  expectType<Equals<FineTuningTaskDetail["runStatus"], V2RunStatus>>();

  // Bodies are the input types of the server's own zod schemas.
  expectType<Equals<Parameters<typeof client.datasets.create>[0], BodyInput<typeof CreateDatasetBody>>>();
  expectType<Equals<Parameters<typeof client.tasks.create>[0], BodyInput<typeof CreateFineTuningTaskBody>>>();

  // Lists are async iterables of items, with typed pages.
  expectType<Equals<ReturnType<typeof client.jobs.list>, Paginated<FineTuningJobItem, DescribeFineTuningJobsResult>>>();
  expectType<Equals<ItemOf<ReturnType<typeof client.jobs.list>>, FineTuningJobItem>>();
  expectType<Equals<ItemOf<ReturnType<typeof client.datasets.list>>, DatasetItem>>();
  expectType<Equals<ItemOf<ReturnType<typeof client.tasks.allMetrics>>, FineTuningMetricPoint>>();
  expectType<Equals<Result<ReturnType<typeof client.jobs.list>["firstPage"]>["pageInfo"], PageInfo>>();

  // Escape hatches are generic, unknown by default.
  expectType<Equals<Result<typeof client.call>, unknown>>();
  expectType<Equals<Result<typeof client.callV1<{ a: number }>>, { a: number }>>();

  // Errors carry the typed fields.
  expectType<Equals<SailfinApiError["code"], string>>();
  expectType<Equals<SailfinApiError["httpStatus"], number>>();
  expectType<Equals<SailfinApiError["requestId"], string>>();
  expectType<Equals<SailfinNetworkError["attempts"], number>>();

  // The global fetch fits the injectable one.
  const globalFetch: FetchLike = globalThis.fetch;
  void globalFetch;

  // Session mode (the web console): the helpers' results are the contract's ConsoleSession.
  expectType<Equals<Result<typeof SailfinClient.signIn>, { client: SailfinClient; session: ConsoleSession }>>();
  expectType<Equals<Result<typeof SailfinClient.currentSession>, ConsoleSession>>();
  expectType<Equals<Result<typeof client.currentSession>, ConsoleSession>>();
  expectType<Equals<Result<typeof client.signOut>, void>>();
  expectType<Equals<ConsoleSession["actions"][number], Action>>();
  expectType<Equals<ConsoleSession["policies"][number], PolicyName>>();
  void new SailfinClient({ baseUrl: "", session: { csrfToken: "t" } });
  void new SailfinClient({ baseUrl: "http://127.0.0.1:8866", session: { csrfToken: "t", cookie: "c" } });

  // Wrong usage does not compile.
  // @ts-expect-error keys or a session: not both
  void new SailfinClient({ baseUrl: "", accessKey: "a", secretKey: "s", session: { csrfToken: "t" } });
  // @ts-expect-error neither keys nor a session
  void new SailfinClient({ baseUrl: "http://127.0.0.1:8866" });
  // @ts-expect-error a session client holds a CSRF token, never the secret key
  void new SailfinClient({ baseUrl: "", session: { csrfToken: "t" }, secretKey: "s" });
  // @ts-expect-error signIn needs the secret key
  void SailfinClient.signIn({ baseUrl: "", accessKey: "a" });
  // @ts-expect-error the session is read-only
  void SailfinClient.currentSession({ baseUrl: "" }).then((session) => { session.csrfToken = "x"; });
  // @ts-expect-error taskId is required
  void client.tasks.describe({});
  // @ts-expect-error taskId is a string
  void client.tasks.describe({ taskId: 42 });
  // @ts-expect-error an unknown train mode
  void client.jobs.create({ name: "demo", model: "m", trainMode: "RLHF" });
  // @ts-expect-error storageType is BOS or sysStorage
  void client.datasets.create({ datasetName: "d", dataFormat: "Messages", storageType: "S3" });
  // @ts-expect-error the tasks of a job need its jobId
  void client.tasks.list({});
  // @ts-expect-error maxKeys is a number
  void client.jobs.list({ maxKeys: "50" });
  // @ts-expect-error the misspelt wire key `maker` is not part of the SDK's input
  void client.jobs.list({ maker: "job-x" });
  // @ts-expect-error results are read-only
  void client.tasks.describe({ taskId: "t" }).then((task) => { task.runStatus = "Done"; });
  // @ts-expect-error no such namespace
  void client.deployments;
  // @ts-expect-error a service is created from a version id (modelId), not a name alone
  void client.services.create({ name: "svc" });
  // @ts-expect-error messages are role + content
  void client.chat.completions({ model: "svc", messages: [{ text: "hi" }] });
  // @ts-expect-error the role is system, user or assistant
  void client.chat.completions({ model: "svc", messages: [{ role: "robot", content: "hi" }] });
}
