export { type EntryOutcome, RequestBatcher, type RequestBatcherOptions } from "./batcher.ts";
export {
  type AwsClientOptions,
  type AwsClients,
  createAwsClients,
  EMULATOR_CREDENTIALS,
} from "./clients.ts";
export {
  type AwsFailure,
  awsErrorCode,
  classifyAwsError,
  hasAwsCode,
  isQueueMissing,
} from "./errors.ts";
export { untilQueueAnswers } from "./queue-ready.ts";
export {
  billedRequests,
  MeteredService,
  RequestCounter,
  RequestMeter,
  type RequestSample,
  RequestTally,
  requestMeterOf,
  SQS_CHUNK_BYTES,
  sqsChunks,
} from "./request-meter.ts";
export { SqsBatchers, type SqsBatchersOptions, SqsEntryError } from "./sqs-batchers.ts";
