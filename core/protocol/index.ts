export { EpochMs, PROTOCOL_VERSION, SafeName, Sha256, Uuid, Version } from "./common.ts";
export {
  CancellationCursor,
  type ControlAction,
  type ControlData,
  ControlErrorBody,
  ControlRequest,
  ControlResponse,
  ControlResponseData,
  EndpointView,
  MAX_CANCELLATION_IDS,
  MAX_CANCELLATION_SESSIONS,
} from "./control.ts";
export { shellFunctionSha256 } from "./function-hash.ts";
export {
  GROUP_ADDRESS_PREFIX,
  GroupIdRecord,
  GroupMemberRecord,
  GroupMembership,
  GroupRecord,
  MAX_GROUP_MEMBERS,
} from "./groups.ts";
export { LIVE_TAIL_BYTES, LiveLogRecord, LiveStream } from "./live-log.ts";
export { parseJsonWith, parseWith } from "./parse.ts";
export { Payload, StoreRef } from "./payload.ts";
export {
  CancellationRecord,
  EndpointNameRecord,
  EndpointRecord,
  EndpointStatus,
  FunctionRecord,
  FunctionSpec,
  HeartbeatRecord,
  ParkedResult,
  RegistryIndexSnapshot,
  SessionRecord,
  StoredHeartbeat,
} from "./registry.ts";
export { ErrorType, ResultMessage, TaskError, Timings, WorkerInfo } from "./result.ts";
export {
  FunctionRef,
  MAX_WALLTIME_SECONDS,
  SQS_VISIBILITY_CEILING_SECONDS,
  TaskMessage,
  type TaskMessageInput,
} from "./task.ts";
