import type { SailfinClient } from "@sailfin/sdk";

/** A released (published) dataset version, as the training and evaluation forms offer them. */
export interface ReleasedVersion {
  readonly datasetId: string;
  readonly datasetName: string;
  readonly dataFormat: string;
  readonly versionId: string;
  readonly version: number;
  readonly sampleCount: number;
}

/** Which V2 `dataFormat` names feed which train mode (the server's TRAIN_MODE_DATA_FORMATS, in wire names). */
export const TRAIN_MODE_FORMATS: Readonly<Record<string, readonly string[]>> = {
  SFT: ["PromptResponse", "PromptSortedresponses", "PromptSortedResponses", "Messages"],
  PostPretrain: ["Text"],
  DPO: ["DPO_PromptChosenRejected", "KTO_PromptChosenRejected"],
  KTO: ["DPO_PromptChosenRejected", "KTO_PromptChosenRejected"],
};

/**
 * Every released version of the datasets whose format passes `accept`, newest dataset first.
 * One DescribeDatasetVersions per dataset: fine for a self-hosted installation's dozens.
 */
export async function releasedVersions(client: SailfinClient, accept: (dataFormat: string) => boolean, signal?: AbortSignal): Promise<ReleasedVersion[]> {
  const options = signal === undefined ? {} : { signal };
  const datasets = (await client.datasets.list({ maxKeys: 100 }, options).toArray(1000)).filter((d) => accept(d.dataFormat));
  const lists = await Promise.all(datasets.map((d) => client.datasets.listVersions({ datasetId: d.datasetId, maxKeys: 100 }, options).toArray(1000)));
  return lists.flat()
    .filter((v) => v.publishStatus === "Published")
    .map((v) => ({ datasetId: v.datasetId, datasetName: v.datasetName, dataFormat: v.dataFormat, versionId: v.versionId, version: v.version, sampleCount: v.sampleCount }));
}
