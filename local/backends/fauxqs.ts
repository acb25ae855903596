import { startFauxqs } from "fauxqs";
import type { BackendOptions, LocalBackend } from "./backend.ts";

/** The default backend: fauxqs, SQS and S3 in memory on one port, provisioned through its own API. */
export async function startFauxqsBackend(options: BackendOptions): Promise<LocalBackend> {
  const emulator = await startFauxqs({
    port: options.port ?? 0,
    host: "127.0.0.1",
    logger: false,
    defaultRegion: options.region,
  });
  return {
    name: "fauxqs",
    sqsEndpointUrl: emulator.address,
    s3EndpointUrl: emulator.address,
    async createBucket(bucket) {
      emulator.createBucket(bucket.name);
    },
    async createQueue(queue) {
      emulator.createQueue(queue.name, { region: options.region, attributes: queue.attributes });
    },
    stop: () => emulator.stop(),
  };
}
