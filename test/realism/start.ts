import type { RealismFaults } from "./faults.ts";
import { RealismProxy } from "./proxy.ts";
import { type RealismStats, sumStats } from "./stats.ts";

/** The three service endpoints of a deployment: emulator URLs in, proxy URLs out. */
export interface RealismEndpoints {
  sqs: string;
  s3: string;
  lambda: string;
}

export interface RealismDeployment {
  urls: RealismEndpoints;
  proxies: { sqs: RealismProxy; s3: RealismProxy; lambda: RealismProxy };
  /** All three proxies' counters summed. */
  stats(): RealismStats;
  /** Changes the settings of all three at once. */
  setFaults(change: Partial<RealismFaults>): void;
  close(): Promise<void>;
}

/**
 * Proxies in front of a deployment's SQS, S3 and Lambda endpoints with the same settings. Each
 * gets its own seed derived from `seed`, so the services do not share one random sequence and
 * traffic on one does not shift the faults of another.
 */
export async function startRealismFor(
  deployment: RealismEndpoints,
  faults: RealismFaults,
  seed = 1,
): Promise<RealismDeployment> {
  const proxies = {
    sqs: new RealismProxy({ service: "sqs", upstream: deployment.sqs, faults, seed }),
    s3: new RealismProxy({ service: "s3", upstream: deployment.s3, faults, seed: seed + 1 }),
    lambda: new RealismProxy({
      service: "lambda",
      upstream: deployment.lambda,
      faults,
      seed: seed + 2,
    }),
  };
  const all = [proxies.sqs, proxies.s3, proxies.lambda];
  try {
    await Promise.all(all.map((p) => p.listen()));
  } catch (error) {
    await Promise.all(all.map((p) => p.close()));
    throw error;
  }
  return {
    urls: { sqs: proxies.sqs.url, s3: proxies.s3.url, lambda: proxies.lambda.url },
    proxies,
    stats: () => sumStats(all.map((p) => p.stats)),
    setFaults: (change) => {
      for (const p of all) p.setFaults(change);
    },
    close: async () => {
      await Promise.all(all.map((p) => p.close()));
    },
  };
}
