// The proxy store: large task arguments and results travel by reference (docs/protocol.md "Payloads: inline or by reference").
export { type Codec, chooseCodec, decodeValue, describeNonJson, encodeValue } from "./codec.ts";
export { resolveInside } from "./file-paths.ts";
export { createFileStore, type FileStore, type FileStoreOptions } from "./file-store.ts";
export {
  checkLocation,
  checkOwnedBy,
  isTemporaryLocation,
  liveLogLocation,
  newLocation,
} from "./keys.ts";
export { type LiveLogTarget, readLiveLog, writeLiveLog } from "./live-log.ts";
export {
  assertMessageFits,
  ENVELOPE_RESERVE_BYTES,
  MAX_INLINE_BYTES,
  MAX_MESSAGE_BYTES,
} from "./message-size.ts";
export {
  type DecodedPayload,
  decodePayload,
  decodePayloadTimed,
  deletePayload,
  type EncodedPayload,
  type EncodePayloadOptions,
  encodePayload,
  isTemporaryPayload,
} from "./payload.ts";
export {
  DEFAULT_STORE_POLICY,
  DEFAULT_THRESHOLD_BYTES,
  policyFor,
  RedisServer,
  resolveStorePolicy,
  type StorePolicies,
  type StorePolicy,
  type StorePolicyInput,
} from "./policy.ts";
export { readPresigned } from "./presigned.ts";
export {
  createRedisStores,
  REDIS_DEFAULT_TTL_SECONDS,
  REDIS_MAX_OBJECT_BYTES,
  type RedisStoreOptions,
  type RedisStores,
} from "./redis-store.ts";
export { createS3Store, type S3Store, type S3StoreOptions } from "./s3-store.ts";
export type { ObjectStore, PutFileOptions, PutOptions, StoreBackend, Stores } from "./store.ts";
export { type CreateStoresOptions, createStores } from "./stores.ts";
