import type { ModelVersionDetail, SailfinClient } from "@sailfin/sdk";
import type { LineageEdge, LineageNode } from "../../ui/lineage-graph.js";

/**
 * A version's lineage, read from the API: upstream through its source (a training task and the
 * dataset versions and base model it read, a compression and the version it compressed, or an
 * import), downstream through the compressions of it, the evaluations of it and of those, and the
 * services serving any of them.
 * Every hop is an API read; a hop the key may not read (or that was deleted) is left out.
 */
export async function loadLineage(client: SailfinClient, version: ModelVersionDetail, signal?: AbortSignal): Promise<{ nodes: LineageNode[]; edges: LineageEdge[] }> {
  const options = signal === undefined ? {} : { signal };
  const nodes = new Map<string, LineageNode>();
  const edges: LineageEdge[] = [];
  const add = (node: LineageNode) => { if (!nodes.has(node.id)) nodes.set(node.id, node); };
  const link = (from: string, to: string, step?: { label: string; link: string }) => {
    if (!edges.some((e) => e.from === from && e.to === to)) edges.push({ from, to, ...(step === undefined ? {} : { label: step.label, link: step.link }) });
  };
  /** A compression is drawn on the edge from its source to its result. */
  const compStep = (id: string, name: string | undefined) => ({ label: name ?? id, link: `/compression/${id}` });
  const soft = async <T>(read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (error) {
      if (signal?.aborted) throw error;
      return undefined;
    }
  };

  const versionNode = (v: ModelVersionDetail, current: boolean): LineageNode => ({
    id: v.modelId, kind: "version", label: v.modelName, sub: `${v.modelId} · ${v.status}`, to: `/versions/${v.modelId}`, current,
  });

  /** Adds `v`'s upstream and returns nothing; stops at imports and unreadable hops. */
  const upstream = async (v: ModelVersionDetail, depth: number): Promise<void> => {
    const source = v.sourceInfo;
    if (source.sourceType === "Import") {
      const id = `import:${v.modelId}`;
      add({ id, kind: "import", label: source.importBosUri, sub: "uploaded files" });
      link(id, v.modelId);
      return;
    }
    if (source.sourceType === "Train") {
      const task = await soft(() => client.tasks.describe({ taskId: source.trainTaskId }, options));
      add({ id: source.trainTaskId, kind: "task", label: task?.jobName ?? source.trainTaskId, sub: `${source.trainTaskId}${source.checkpointStep === undefined ? "" : ` · step ${source.checkpointStep}`}`, to: `/tasks/${source.trainTaskId}` });
      link(source.trainTaskId, v.modelId);
      if (task === undefined) return;
      add({ id: `base:${task.model}`, kind: "base", label: task.model, sub: task.parameterScale });
      link(`base:${task.model}`, source.trainTaskId);
      const datasets = await Promise.all(task.datasetConfig.versions.map((d) => soft(() => client.datasets.describeVersion({ versionId: d.versionId }, options))));
      task.datasetConfig.versions.forEach((d, i) => {
        const dataset = datasets[i];
        add({ id: d.versionId, kind: "dataset", label: dataset === undefined ? d.versionId : `${dataset.datasetName} V${dataset.version}`, sub: d.versionId, to: `/dataset-versions/${d.versionId}` });
        link(d.versionId, source.trainTaskId);
      });
      return;
    }
    const [comp, parent] = await Promise.all([
      soft(() => client.compression.describe({ modelCompTaskId: source.accelerationTaskId }, options)),
      soft(() => client.models.describe({ modelId: source.sourceModelId }, options)),
    ]);
    add(parent === undefined ? { id: source.sourceModelId, kind: "version", label: source.sourceModelId, sub: "", to: `/versions/${source.sourceModelId}` } : versionNode(parent, false));
    link(source.sourceModelId, v.modelId, compStep(source.accelerationTaskId, comp?.name));
    if (parent !== undefined && depth < 4) await upstream(parent, depth + 1);
  };

  add(versionNode(version, true));
  await upstream(version, 0);

  // Downstream: compressions of this version, then the evaluations of it and of its compressed versions.
  const comps = (await soft(() => client.compression.list({ sourceModelId: version.modelId, maxKeys: 100 }, options).toArray(200))) ?? [];
  const evaluated = new Set([version.modelId]);
  for (const comp of comps) {
    if (comp.modelId === "") {
      // Not (yet) a version: the compression itself is the node.
      add({ id: comp.id, kind: "compression", label: comp.name, sub: `${String(comp.config.weight ?? "")} · ${comp.status}`, to: `/compression/${comp.id}` });
      link(version.modelId, comp.id);
      continue;
    }
    const child = await soft(() => client.models.describe({ modelId: comp.modelId }, options));
    add(child === undefined ? { id: comp.modelId, kind: "version", label: comp.modelId, sub: "", to: `/versions/${comp.modelId}` } : versionNode(child, false));
    link(version.modelId, comp.modelId, compStep(comp.id, comp.name));
    evaluated.add(comp.modelId);
  }
  const evals = (await soft(() => client.evaluations.list({ maxKeys: 100 }, options).toArray(500))) ?? [];
  for (const e of evals) {
    const models = e.models.filter((m) => evaluated.has(m.modelId));
    if (models.length === 0) continue;
    add({ id: e.taskId, kind: "evaluation", label: e.taskName, sub: `${e.taskId} · ${e.state}`, to: `/evaluations/${e.taskId}` });
    for (const m of models) link(m.modelId, e.taskId);
  }
  // Services hang off the version they serve (this one or a compressed one).
  const services = (await soft(() => client.services.list({ maxKeys: 100 }, options).toArray(500))) ?? [];
  for (const s of services) {
    if (!evaluated.has(s.modelId)) continue;
    add({ id: s.serviceId, kind: "service", label: s.name, sub: `${s.endpoint} · ${s.runStatus}`, to: `/services/${s.serviceId}` });
    link(s.modelId, s.serviceId);
  }
  return { nodes: [...nodes.values()], edges };
}
