export { type Caller, OPERATOR } from "./caller.ts";
export { loadRegistrationConfig, type RegistrationConfig } from "./config.ts";
export { createHandler, dispatch, type RegistrationHandler } from "./dispatch.ts";
export { ConflictError, toControlError } from "./errors.ts";
export { handler } from "./handler.ts";
export { createRecordStore, type RecordStore } from "./registry-store.ts";
export {
  type ActionInput,
  createRegistrationService,
  type RegistrationDeps,
  type RegistrationService,
} from "./service.ts";
export {
  endpointView,
  HEARTBEAT_RETENTION_MS,
  ONLINE_WITHIN_MS,
  STALE_WITHIN_MS,
  statusOf,
} from "./status.ts";
