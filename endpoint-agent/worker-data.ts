import type { Payload } from "#core/protocol/index.ts";
import {
  createFileStore,
  decodeValue,
  encodePayload,
  readPresigned,
  type Stores,
} from "#core/store/index.ts";
import type { ArgsRef, ResultSpec } from "./worker-ipc.ts";

/**
 * The worker's side of large data: it reads its arguments from a file and stores its result
 * itself, so large values never cross the agent's IPC channel. That channel copies a value
 * three times and moves it in small pieces (a 10 MB round trip took 200-400 ms here, where the
 * file store's whole round trip takes tens).
 */

/** Read and verify (size, sha256) the referenced object, then decode it. */
export async function readArgs(a: ArgsRef): Promise<unknown> {
  if ("url" in a) return decodeValue(await readPresigned(a.url, a.ref), a.ref.codec);
  const store = createFileStore({ dir: a.dir, fsync: false });
  return decodeValue(await store.get(a.ref), a.ref.codec);
}

export interface WorkerEncoded {
  payload: Payload;
  /** The object sits in the task's staging directory, for the agent to upload to S3. */
  staged: boolean;
  serializeMs: number;
  storeMs: number;
}

/**
 * The result under its topic's policy, as the agent would encode it: inline when small, else
 * written to the shared file store, or staged for S3 (the worker holds no AWS client).
 */
export async function encodeResultHere(value: unknown, spec: ResultSpec): Promise<WorkerEncoded> {
  const { policy } = spec;
  const stores: Stores = {};
  if (policy.backend === "file") stores.file = createFileStore({ dir: policy.fileDir });
  // Staged objects live one task long on local disk: no fsync.
  if (policy.backend === "s3") stores.s3 = createFileStore({ dir: spec.stageDir, fsync: false });
  const encoded = await encodePayload(value, {
    topic: spec.topic,
    policies: { [spec.topic]: policy },
    stores,
    temporary: true,
    // Staged objects get their final location when the agent uploads them.
    owner: policy.backend === "file" ? spec.owner : undefined,
  });
  return {
    payload: encoded.payload,
    staged: policy.backend === "s3" && "ref" in encoded.payload,
    serializeMs: encoded.serializeMs,
    storeMs: encoded.storeMs,
  };
}
