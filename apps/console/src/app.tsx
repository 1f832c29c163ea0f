import { useEffect, useRef } from "react";
import { SessionProvider, useSessionPhase } from "./lib/session.js";
import { matchRoute, useLocation } from "./lib/router.js";
import { Loading } from "./ui/feedback.js";
import { Shell } from "./shell.js";
import { PageErrorBoundary } from "./ui/error-boundary.js";
import { SignInPage } from "./features/session/sign-in-page.js";
import { HomePage } from "./features/home-page.js";
import { DatasetsPage } from "./features/datasets/datasets-page.js";
import { DatasetPage, DatasetVersionRedirect } from "./features/datasets/dataset-page.js";
import { JobsPage } from "./features/finetune/jobs-page.js";
import { JobPage } from "./features/finetune/job-page.js";
import { TaskPage } from "./features/finetune/task-page.js";
import { ModelSetsPage } from "./features/models/model-sets-page.js";
import { ModelSetPage } from "./features/models/model-set-page.js";
import { VersionPage } from "./features/models/version-page.js";
import { CompressionsPage } from "./features/compression/compressions-page.js";
import { CompressionPage } from "./features/compression/compression-page.js";
import { EvaluationsPage } from "./features/evaluations/evaluations-page.js";
import { EvaluationPage } from "./features/evaluations/evaluation-page.js";
import { ManualScoringPage } from "./features/evaluations/manual-scoring-page.js";
import { ServicesPage } from "./features/services/services-page.js";
import { ServicePage } from "./features/services/service-page.js";
import type { ReactNode } from "react";

/** Pattern → page. The first match wins; the path is the part after /console. */
const ROUTES: ReadonlyArray<readonly [string, (params: Record<string, string>) => ReactNode, string]> = [
  ["/", () => <HomePage />, "Overview"],
  ["/datasets", () => <DatasetsPage />, "Datasets"],
  ["/datasets/:datasetId", (p) => <DatasetPage datasetId={p.datasetId!} />, "Dataset"],
  ["/dataset-versions/:versionId", (p) => <DatasetVersionRedirect versionId={p.versionId!} />, "Dataset version"],
  ["/jobs", () => <JobsPage />, "Fine-tuning"],
  ["/jobs/:jobId", (p) => <JobPage jobId={p.jobId!} />, "Fine-tuning job"],
  ["/tasks/:taskId", (p) => <TaskPage taskId={p.taskId!} />, "Fine-tuning task"],
  ["/models", () => <ModelSetsPage />, "Models"],
  ["/models/:modelSetId", (p) => <ModelSetPage modelSetId={p.modelSetId!} />, "Model set"],
  ["/versions/:modelId", (p) => <VersionPage modelId={p.modelId!} />, "Model version"],
  ["/compression", () => <CompressionsPage />, "Compression"],
  ["/compression/:id", (p) => <CompressionPage id={p.id!} />, "Compression task"],
  ["/evaluations", () => <EvaluationsPage />, "Evaluations"],
  ["/evaluations/:id", (p) => <EvaluationPage id={p.id!} />, "Evaluation"],
  ["/evaluations/:id/score", (p) => <ManualScoringPage id={p.id!} />, "Score answers"],
  ["/services", () => <ServicesPage />, "Services"],
  ["/services/:serviceId", (p) => <ServicePage serviceId={p.serviceId!} />, "Service"],
];

function Routes() {
  const { path } = useLocation();
  // After an in-app navigation, focus moves to the new page (as a full page load would put it).
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById("main")?.focus({ preventScroll: true });
  }, [path]);
  for (const [pattern, render, title] of ROUTES) {
    const params = matchRoute(pattern, path);
    // Keyed by path: /versions/A → /versions/B is a new page, not A's state (data, open forms) under B's URL.
    if (params !== null) return <Titled key={path} title={title}><PageErrorBoundary>{render(params)}</PageErrorBoundary></Titled>;
  }
  return (
    <Titled title="Not found">
      <h1>Page not found</h1>
      <p>Nothing lives at <code>/console{path}</code>. Use the navigation above to find your way.</p>
    </Titled>
  );
}

function Titled(props: { title: string; children: ReactNode }) {
  useEffect(() => { document.title = `${props.title} · Sailfin`; }, [props.title]);
  return <>{props.children}</>;
}

export function App() {
  const { phase, signIn } = useSessionPhase();
  if (phase.kind === "checking") return <main className="center"><Loading what="your session" /></main>;
  if (phase.kind === "signed-out") return <SignInPage signIn={signIn} {...(phase.notice === undefined ? {} : { notice: phase.notice })} />;
  return (
    <SessionProvider state={phase.state}>
      <Shell><Routes /></Shell>
    </SessionProvider>
  );
}
