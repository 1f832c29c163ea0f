import type {
  CreateModelExportTaskBody, CreateModelExportTaskResult, ModelExportIdBody, ModelExportTaskDetail,
  BodyInput, CreateCustomModelBody, CreateCustomModelResult, CreateCustomModelSetBody, DescribeCustomModelSetsResult,
  DescribeModelSetBody, DescribeModelSetsBody, DescribeSystemModelSetsResult, ModelIdBody, ModelSetDetail, ModelSetIdBody,
  ModelSetItem, ModelVersionDetail, UploadObjectResult,
} from "@sailfin/contract/api";
import { Paginated } from "../paginate.js";
import type { CallOptions, Transport, UploadBody } from "../transport.js";

/**
 * The V2 model repository (`/v2/model`): model sets (`am-…`) and their versions (`amv-…`, which
 * V2 calls "models"), plus uploading a model's files for `sourceType: "Import"`.
 */
export class Models {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  /** CreateCustomModelSet; resolves to the new set's id. */
  createSet(body: BodyInput<typeof CreateCustomModelSetBody>, options?: CallOptions): Promise<string> {
    return this.#t.v2("model", "CreateCustomModelSet", body, options);
  }

  /** DescribeCustomModelSets, every page. */
  listSets(body: BodyInput<typeof DescribeModelSetsBody> = {}, options?: CallOptions): Paginated<ModelSetItem, DescribeCustomModelSetsResult> {
    return new Paginated(
      (marker) => this.#t.v2<DescribeCustomModelSetsResult>("model", "DescribeCustomModelSets", { ...body, ...(marker === undefined ? {} : { marker }) }, options),
      (page) => page.customModelSetList, body.marker,
    );
  }

  /** DescribeSystemModelSets (Sailfin has no presets: always empty). */
  listSystemSets(body: BodyInput<typeof DescribeModelSetsBody> = {}, options?: CallOptions): Paginated<ModelSetItem, DescribeSystemModelSetsResult> {
    return new Paginated(
      (marker) => this.#t.v2<DescribeSystemModelSetsResult>("model", "DescribeSystemModelSets", { ...body, ...(marker === undefined ? {} : { marker }) }, options),
      (page) => page.systemModelSetList, body.marker,
    );
  }

  /** DescribeModelSet by `modelSetId` or `modelSetName`. */
  describeSet(body: BodyInput<typeof DescribeModelSetBody>, options?: CallOptions): Promise<ModelSetDetail> {
    return this.#t.v2("model", "DescribeModelSet", body, options);
  }

  async deleteSet(body: BodyInput<typeof ModelSetIdBody>, options?: CallOptions): Promise<void> {
    await this.#t.v2("model", "DeleteModelSet", body, options);
  }

  /** CreateCustomModel: a new version, from a finished task (`Train`) or uploaded files (`Import`). */
  create(body: BodyInput<typeof CreateCustomModelBody>, options?: CallOptions): Promise<CreateCustomModelResult> {
    return this.#t.v2("model", "CreateCustomModel", body, options);
  }

  /** DescribeModel: one version. */
  describe(body: BodyInput<typeof ModelIdBody>, options?: CallOptions): Promise<ModelVersionDetail> {
    return this.#t.v2("model", "DescribeModel", body, options);
  }

  async delete(body: BodyInput<typeof ModelIdBody>, options?: CallOptions): Promise<void> {
    await this.#t.v2("model", "DeleteModel", body, options);
  }

  /**
   * Uploads one file of a model folder (`config.json`, `model.safetensors`, tokenizer files) to
   * `bucket/path`; then `create({ sourceType: "Import", importMeta: { bucket, objectPath: folder } })`.
   */
  upload(input: { readonly bucket: string; readonly path: string; readonly body: UploadBody }, options?: CallOptions): Promise<UploadObjectResult> {
    return this.#t.upload(input.bucket, input.path, input.body, options);
  }

  /** CreateModelExportTask: a tar of a Ready version's files (into a bucket folder with `storagePath`). */
  createExport(body: BodyInput<typeof CreateModelExportTaskBody>, options?: CallOptions): Promise<CreateModelExportTaskResult> {
    return this.#t.v2("model", "CreateModelExportTask", body, options);
  }

  /** DescribeModelExportTask: the version's newest export that has not failed (`{hasRecord: false}` without one). */
  describeExport(body: BodyInput<typeof ModelExportIdBody>, options?: CallOptions): Promise<ModelExportTaskDetail> {
    return this.#t.v2("model", "DescribeModelExportTask", body, options);
  }
}
