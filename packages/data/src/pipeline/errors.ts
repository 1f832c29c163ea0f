/**
 * A problem with the pipeline's inputs that retrying cannot fix: a tokenizer that does not
 * match the model, a dataset that yields no training samples, a format the train mode cannot
 * use. The engine turns it into an `InvalidParameter` (and the worker into a user error that is
 * not retried); anything else thrown by the pipeline is a system fault.
 */
export class PipelineInputError extends Error {
  /** The request field this traces back to, when known (`datasetConfig.versions`). */
  readonly field: string | undefined;

  constructor(message: string, field?: string) {
    super(message);
    this.name = "PipelineInputError";
    this.field = field;
  }
}
