// Deliberately small: each folder (protocol, config, aws, control) has its own index.
export { type Connection, connect } from "./connect.ts";
export {
  ConfigError,
  ConflictError,
  describeError,
  type ErrorContext,
  FerryError,
  IntegrityError,
  NotFoundError,
  ProtocolError,
  RefusedError,
  TaskFailedError,
  TaskTimeoutError,
  TransientError,
} from "./errors.ts";
export { newEndpointId, newSessionId, newTaskId } from "./ids.ts";
export { createLogger, type Logger } from "./logger.ts";
export { bundleKey, DEFAULT_QUEUE_PREFIX, keyPrefixes, queueNames, registryKeys } from "./names.ts";
