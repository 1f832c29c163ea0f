import type {
  CreateExportTaskBody, DatasetExportTaskDetail, ExportTaskIdBody,
  BodyInput, CreateDatasetBody, CreateDatasetResult, CreateDatasetVersionBody, CreateImportTaskBody, DatasetIdBody, DatasetItem,
  DatasetVersionIdBody, DatasetVersionItem, DescribeDatasetVersionsBody, DescribeDatasetVersionsResult, DescribeDatasetsBody,
  DescribeDatasetsResult, ImportTaskDetail, ImportTaskIdBody, UploadObjectResult,
} from "@sailfin/contract/api";
import { Paginated } from "../paginate.js";
import type { CallOptions, Transport, UploadBody } from "../transport.js";

/** V2 datasets (`/v2/dataset`): datasets, their versions, imports, and uploading the files to import. */
export class Datasets {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  /** CreateDataset: the dataset and its first (empty) version. */
  create(body: BodyInput<typeof CreateDatasetBody>, options?: CallOptions): Promise<CreateDatasetResult> {
    return this.#t.v2("dataset", "CreateDataset", body, options);
  }

  /** DescribeDatasets, every page. */
  list(body: BodyInput<typeof DescribeDatasetsBody> = {}, options?: CallOptions): Paginated<DatasetItem, DescribeDatasetsResult> {
    return new Paginated(
      (marker) => this.#t.v2<DescribeDatasetsResult>("dataset", "DescribeDatasets", { ...body, ...(marker === undefined ? {} : { marker }) }, options),
      (page) => page.datasets, body.marker,
    );
  }

  async delete(body: BodyInput<typeof DatasetIdBody>, options?: CallOptions): Promise<void> {
    await this.#t.v2("dataset", "DeleteDataset", body, options);
  }

  createVersion(body: BodyInput<typeof CreateDatasetVersionBody>, options?: CallOptions): Promise<DatasetVersionItem> {
    return this.#t.v2("dataset", "CreateDatasetVersion", body, options);
  }

  describeVersion(body: BodyInput<typeof DatasetVersionIdBody>, options?: CallOptions): Promise<DatasetVersionItem> {
    return this.#t.v2("dataset", "DescribeDatasetVersion", body, options);
  }

  /** DescribeDatasetVersions of one dataset, every page. */
  listVersions(body: BodyInput<typeof DescribeDatasetVersionsBody>, options?: CallOptions): Paginated<DatasetVersionItem, DescribeDatasetVersionsResult> {
    return new Paginated(
      (marker) => this.#t.v2<DescribeDatasetVersionsResult>("dataset", "DescribeDatasetVersions", { ...body, ...(marker === undefined ? {} : { marker }) }, options),
      (page) => page.versions, body.marker,
    );
  }

  async deleteVersion(body: BodyInput<typeof DatasetVersionIdBody>, options?: CallOptions): Promise<void> {
    await this.#t.v2("dataset", "DeleteDatasetVersion", body, options);
  }

  /** PublishDatasetVersion: freezes the imported data (a version trains only once published). */
  async publishVersion(body: BodyInput<typeof DatasetVersionIdBody>, options?: CallOptions): Promise<void> {
    await this.#t.v2("dataset", "PublishDatasetVersion", body, options);
  }

  /** CreateImportTask: imports `files` (`bos:/bucket/path` URIs) into a version; resolves to the task id. */
  createImportTask(body: BodyInput<typeof CreateImportTaskBody>, options?: CallOptions): Promise<string> {
    return this.#t.v2("dataset", "CreateImportTask", body, options);
  }

  describeImportTask(body: BodyInput<typeof ImportTaskIdBody>, options?: CallOptions): Promise<ImportTaskDetail> {
    return this.#t.v2("dataset", "DescribeImportTask", body, options);
  }

  /**
   * Uploads one file into a bucket (Sailfin's `PUT /sailfin/v1/objects/…`); import it with the
   * returned `uri`.
   *
   * @example
   * const { uri } = await client.datasets.upload({ bucket: "data", path: "sft/train.jsonl", body: jsonl });
   * await client.datasets.createImportTask({ versionId, files: [uri] });
   */
  upload(input: { readonly bucket: string; readonly path: string; readonly body: UploadBody }, options?: CallOptions): Promise<UploadObjectResult> {
    return this.#t.upload(input.bucket, input.path, input.body, options);
  }

  /** CreateExportTask: a zip of a version's records into Sailfin's storage (`sysStorage`) or a bucket folder (`BOS`); resolves to the task id (`task-…`). */
  createExport(body: BodyInput<typeof CreateExportTaskBody>, options?: CallOptions): Promise<string> {
    return this.#t.v2("dataset", "CreateExportTask", body, options);
  }

  /** DescribeExportTask; a finished `sysStorage` export has a `downloadUrl` (see `client.exports.download`). */
  describeExport(body: BodyInput<typeof ExportTaskIdBody>, options?: CallOptions): Promise<DatasetExportTaskDetail> {
    return this.#t.v2("dataset", "DescribeExportTask", body, options);
  }
}
