import { createStores } from "#core/store/index.ts";
import { Executor } from "#sdk/index.ts";
import { realismPresets } from "../realism/index.ts";
import { type Scenario, submitAll } from "./scenario.ts";
import { Tally } from "./tally.ts";

/**
 * Everything between the sites and AWS on a bad day, for every client and agent at once: the
 * realism proxies in front of SQS, S3 and the Lambda add 5-40 ms per call, throttle 2 %, answer
 * 1 % with 5xx, reset 0.5 % of connections before and 0.5 % after the request was served, and
 * apply AWS's windows (a new queue unusable for 1 s, a deleted name not reusable for 60 s). The
 * endpoint is registered and the session opened through them, so agents and the client meet
 * the new-queue window too. Every task must succeed: none of these is a reason to fail one.
 */
export const awsRealism: Scenario = {
  name: "aws-realism",
  async run({ d, quick, random, log }) {
    const tasks = quick ? 200 : 1_000;
    const tally = new Tally(`AWS realism: latency, throttling, 5xx, resets, windows (${tasks})`);
    const seed = Math.floor(random() * 2 ** 31);
    const realism = await d.realistic(realismPresets["bad-day"], seed);
    // Registered through the proxies: its CreateQueue starts the new-queue window.
    const { endpoint } = await realism.conn.control.call("registerEndpoint", {
      name: "faults-realism",
    });
    const endpointId = endpoint.endpointId;
    await d.registerNode("short", "short.ts");
    const config = await d.siteConfig("realism", {
      workers: 4,
      pollWaitSeconds: 2,
      heartbeatIntervalSeconds: 5,
      shutdownGraceSeconds: 1,
      killGraceSeconds: 1,
    });
    const agents = [
      d.spawnAgent(endpointId, config, realism.env),
      d.spawnAgent(endpointId, config, realism.env),
    ];
    // With stores: one task in ten carries 20 kB, past the store threshold, through S3.
    const stores = createStores({
      s3: { client: realism.conn.aws.s3, bucket: realism.conn.deployment.bucketName },
    });
    const executor = new Executor({
      sqs: tally.countingSqs(realism.conn.aws.sqs),
      control: realism.conn.control,
      stores,
    });
    await executor.open();
    const following = tally.follow(executor);
    try {
      const pad = "x".repeat(20_000);
      const specs = Array.from({ length: tasks }, (_, i) => ({
        function: "short",
        args: i % 10 === 0 ? { i, ms: 20, pad } : { i, ms: 20 },
        endpointId,
      }));
      await submitAll(executor, tally, specs);
      if (!(await tally.waitForAll(300_000, log)))
        tally.problems.push("not every task had a result within 300 s");
      await checkOutcomes(tally, executor);
      const stats = realism.stats();
      const injected = Object.entries(stats.injected)
        .filter(([, n]) => n > 0)
        .map(([kind, n]) => `${kind} ${n}`)
        .join(", ");
      tally.notes.push(`${stats.requests} AWS requests through the proxies; injected: ${injected}`);
      for (const [i, agent] of agents.entries()) {
        if (agent.child.exitCode !== null) tally.problems.push(`agent ${i} exited`);
      }
    } finally {
      await executor.close();
      await following;
      await Promise.all(agents.map((a) => a.stop(5_000)));
      await realism.close();
    }
    return tally.figures();
  },
};

/** Every result is a success with the right value: a fault here is never a task's failure. */
async function checkOutcomes(tally: Tally, executor: Executor): Promise<void> {
  const types = [...tally.typesOf(tally.submitted)].map(([t, n]) => `${t} ${n}`).join(", ");
  tally.notes.push(`outcomes: ${types}`);
  let wrong = 0;
  for (const result of tally.results.values()) {
    if (!result.ok) continue;
    const value = (await executor.value(result).catch(() => undefined)) as
      | { i?: number }
      | undefined;
    if (typeof value?.i !== "number") wrong++;
  }
  const failed = [...tally.results.values()].filter((r) => !r.ok).length;
  if (failed > 0)
    tally.problems.push(`${failed} task(s) failed; none should under transient faults`);
  if (wrong > 0) tally.problems.push(`${wrong} result value(s) could not be read back`);
}
