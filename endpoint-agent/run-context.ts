import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { SqsBatchers } from "#core/aws/index.ts";
import type { Logger } from "#core/logger.ts";
import { createStores } from "#core/store/index.ts";
import { CancellationWatcher } from "./cancellation.ts";
import type { SiteConfig } from "./config.ts";
import type { AgentDeps } from "./deps.ts";
import { FunctionCache } from "./function-cache.ts";
import { NodeWorkerPool } from "./node-pool.ts";
import { readMaxReceiveCount, resolveTaskQueueUrl } from "./queue.ts";
import { ResultDelivery } from "./result-delivery.ts";
import { ResultSpool } from "./spool.ts";
import type { TaskContext } from "./task-context.ts";
import { TaskProcesses } from "./task-processes.ts";

export interface RunContextOptions {
  endpointId: string;
  config: SiteConfig;
  deps: AgentDeps;
  host: string;
  /** The run's signal: every SDK call of the run takes it. */
  signal: AbortSignal;
  logger: Logger;
}

/**
 * What every task of one agent run shares: the task queue (waited for while AWS makes a new
 * one usable), its redrive limit, the worker pool, result delivery with its spool, the
 * cancellation watcher, the store backends. Processes a killed predecessor left are reaped
 * first. Nothing here runs yet: the agent starts the watcher and the flusher.
 */
export async function createRunContext(o: RunContextOptions): Promise<TaskContext> {
  const { endpointId, config, deps, signal, logger } = o;
  const taskQueueUrl = await resolveTaskQueueUrl({
    sqs: deps.sqs,
    control: deps.control,
    queuePrefix: deps.queuePrefix,
    endpointId,
    signal,
    logger,
  });
  const maxReceiveCount = await readMaxReceiveCount(deps.sqs, taskQueueUrl, signal);
  await Promise.all([config.scratchDir, config.cacheDir].map((d) => mkdir(d, { recursive: true })));
  const batchers = new SqsBatchers({ sqs: deps.sqs, signal });
  // Processes a killed predecessor on this host left running: they would compete with
  // their tasks' second attempts for the whole walltime.
  const processes = new TaskProcesses(join(config.spoolDir, `${endpointId}-processes`));
  const reaped = await processes.reapOrphans(logger);
  if (reaped > 0) logger.warn({ reaped }, "stopped orphaned task process groups");
  return {
    endpointId,
    config,
    deps,
    taskQueueUrl,
    maxReceiveCount,
    functions: new FunctionCache({
      control: deps.control,
      s3: deps.s3,
      bucket: deps.bucket,
      cacheDir: config.cacheDir,
    }),
    pool: workerPool(o),
    results: resultDelivery(o, batchers),
    batchers,
    cancellations: new CancellationWatcher({
      control: deps.control,
      intervalMs: config.cancelPollIntervalSeconds * 1000,
      signal,
      logger,
    }),
    processes,
    stores: createStores({
      s3: { client: deps.s3, bucket: deps.bucket },
      policies: config.storePolicies,
      ...(config.storeFileDir ? { fileDir: config.storeFileDir } : {}),
      redis: { servers: config.storeRedisServers },
    }),
    host: o.host,
    runSignal: signal,
    logger,
  };
}

function workerPool({ config, endpointId, logger }: RunContextOptions): NodeWorkerPool {
  return new NodeWorkerPool({
    maxIdle: config.maxIdleWorkers,
    killGraceMs: config.killGraceSeconds * 1000,
    scratchRoot: config.scratchDir,
    endpointId,
    passEnv: config.passEnv,
    logger,
  });
}

/** Results go out through the shared batchers, with the endpoint's spool behind them. */
function resultDelivery(o: RunContextOptions, batchers: SqsBatchers): ResultDelivery {
  const { config, deps, endpointId } = o;
  return new ResultDelivery({
    sqs: deps.sqs,
    batchers,
    spool: new ResultSpool(join(config.spoolDir, endpointId)),
    consistencyWindowMs: config.replyRefusalWindowSeconds * 1000,
    park: async (result, reason, parkSignal) => {
      await deps.control.call("parkResult", { result, reason }, { signal: parkSignal });
    },
    signal: o.signal,
    logger: o.logger,
  });
}
