import { SailfinClient, type UploadBody, type UploadObjectResult } from "@sailfin/sdk";

/** What a test client connects with; tests also hand the pair to raw signers and spawned processes. */
interface ClientConfig {
  readonly baseUrl: string;
  readonly accessKey: string;
  readonly secretKey: string;
}

/**
 * The tests' client: the SDK's, without retries (a test sees the server's first answer), with
 * short names for the raw calls that route tests make by action name or V1 path.
 */
export class Client extends SailfinClient {
  readonly config: ClientConfig;

  constructor(config: ClientConfig) {
    super({ ...config, retries: 0 });
    this.config = config;
  }

  /** A V2 action's `result`. */
  v2<T = unknown>(resource: string, action: string, body: unknown = {}): Promise<T> {
    return this.call<T>(resource, action, body);
  }

  /** A V1 route's `result` (a V1 `error_code` throws SailfinApiError with that code). */
  v1<T = unknown>(path: string, body: unknown = {}): Promise<T> {
    return this.callV1<T>(path, body);
  }

  /** `PUT /sailfin/v1/objects/<bucket>/<objectPath>`. */
  uploadObject(bucket: string, objectPath: string, body: UploadBody): Promise<UploadObjectResult> {
    return this.datasets.upload({ bucket, path: objectPath, body });
  }
}
