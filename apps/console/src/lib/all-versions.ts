import type { ModelVersionDetail, SailfinClient } from "@sailfin/sdk";

/** Every model version of every set, newest set first (for the compression and evaluation pickers). */
export async function allVersions(client: SailfinClient, signal?: AbortSignal): Promise<ModelVersionDetail[]> {
  const options = signal === undefined ? {} : { signal };
  const sets = await client.models.listSets({ maxKeys: 100 }, options).toArray(1000);
  const ids = sets.flatMap((s) => s.modelIds);
  return Promise.all(ids.map((modelId) => client.models.describe({ modelId }, options)));
}
