import { ProtocolError } from "../errors.ts";
import type { StoreRef } from "../protocol/payload.ts";
import type { Codec } from "./codec.ts";
import type { RedisStores } from "./redis-store.ts";

/** Where a stored object lives. */
export type StoreBackend = StoreRef["store"];

export interface PutOptions {
  codec: Codec;
  /**
   * Store under `tmp/`: the object is deleted after its last reader (deletePayload) and the
   * bucket lifecycle removes leftovers.
   * @default false
   */
  temporary?: boolean;
  /** Store under `<root>/<owner>/` (a client's IAM user id), where only it and agents reach. */
  owner?: string | undefined;
}

/**
 * A local file's bytes to store, with the size and sha256 its writer claims. The store
 * recomputes both as it reads the file and refuses a file that differs (or removes the object,
 * when the file was too large to check before sending): the writer may be a function's worker,
 * which is not trusted.
 */
export interface PutFileOptions extends PutOptions {
  size: number;
  sha256: string;
}

/** One backend of the proxy store: bytes in, a reference out, and back. */
export interface ObjectStore {
  readonly backend: StoreBackend;
  /** Store the bytes under a fresh location and return their reference (size, sha256, codec). */
  put(bytes: Uint8Array, options: PutOptions): Promise<StoreRef>;
  /** The referenced bytes, verified against the reference's size and sha256. */
  get(ref: StoreRef): Promise<Uint8Array>;
  /** Remove the object; removing one that is already gone is not an error. */
  delete(ref: StoreRef): Promise<void>;
  /**
   * Stream the referenced object into a local file, verified on the way (a mismatch removes
   * the file): large objects never sit whole in this process's memory. Optional.
   */
  getToFile?(ref: StoreRef, path: string): Promise<void>;
  /**
   * Store a local file's bytes, checked against the size and sha256 its writer claims (a
   * mismatch throws IntegrityError and leaves no object). Optional.
   */
  putFile?(path: string, options: PutFileOptions): Promise<StoreRef>;
  /**
   * A URL that GETs this one object (Range requests included) without credentials, valid for
   * `expiresInSeconds`: what the agent hands a worker, which holds no AWS credentials, to read
   * its arguments itself (readPresigned). Optional.
   */
  presignGet?(ref: StoreRef, expiresInSeconds: number): Promise<string>;
}

/** The backends this process can reach, by name; a reference names the one that holds it. */
export interface Stores {
  s3?: ObjectStore | undefined;
  file?: (ObjectStore & { readonly dir: string }) | undefined;
  /** The Redis servers this side may reach, one store each. */
  redis?: RedisStores | undefined;
}

export function assertBackend(ref: StoreRef, backend: StoreBackend): void {
  if (ref.store !== backend) {
    throw new ProtocolError(`a ${ref.store} reference was handed to the ${backend} store`, {
      context: { location: ref.location },
    });
  }
}
