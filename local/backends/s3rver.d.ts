// Types for the parts of s3rver 3.7.1 (plain JavaScript, no types of its own) that the compat
// backend uses: the server, its Koa middleware stack, and its registry of access keys.

declare module "s3rver" {
  import type { Server } from "node:http";
  import type { AddressInfo } from "node:net";

  /** The slice of a Koa context the compat backend's middleware reads and writes. */
  export interface S3rverContext {
    method: string;
    path: string;
    /** Parsed query string; assigning it rewrites the request's query. */
    query: Record<string, string | string[] | undefined>;
    headers: Record<string, string | string[] | undefined>;
    /** A plain object until s3rver's XML middleware serializes it. */
    body: unknown;
  }
  export type S3rverMiddleware = (ctx: S3rverContext, next: () => Promise<void>) => Promise<void>;

  export interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
  }

  export default class S3rver {
    constructor(options?: S3rverOptions);
    /** Koa's middleware stack, composed when the server starts listening. */
    middleware: S3rverMiddleware[];
    httpServer?: Server;
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
}

declare module "s3rver/lib/models/account.js" {
  interface AWSAccount {
    createKeyPair(accessKeyId: string, secretAccessKey: string): void;
  }
  const AWSAccount: {
    /** Every known access key id, and its account. */
    registry: Map<string, AWSAccount>;
    /** The one account s3rver knows (access key S3RVER). */
    DUMMY_ACCOUNT: AWSAccount;
  };
  export default AWSAccount;
}
