import { executorFor, type Scenario, sleep, submitAll } from "./scenario.ts";
import { Tally } from "./tally.ts";

const OUTAGE_MS = 10_000;

/**
 * The emulator (SQS + S3) and the Lambda host become unreachable for 10 s mid-run, as every
 * client and agent sees it: a TCP proxy in front of them is cut (the in-memory emulator
 * cannot be restarted without losing its queues). Agents spool results and re-send them; the
 * client's listener retries; nothing is lost.
 */
export const emulatorOutage: Scenario = {
  name: "emulator-outage",
  async run({ d, quick, log }) {
    const tasks = quick ? 100 : 300;
    const tally = new Tally(`emulator cut 10 s (${tasks} tasks)`);
    const endpointId = await d.registerEndpoint("faults-outage");
    await d.registerNode("short", "short.ts");
    const proxy = await d.proxied();
    const config = await d.siteConfig("outage", {
      workers: 4,
      visibilityTimeoutSeconds: 30,
      pollWaitSeconds: 1,
      heartbeatIntervalSeconds: 5,
      killGraceSeconds: 1,
      shutdownGraceSeconds: 1,
    });
    const agents = [
      d.spawnAgent(endpointId, config, proxy.env),
      d.spawnAgent(endpointId, config, proxy.env),
    ];
    const executor = executorFor(proxy.conn, tally);
    await executor.open();
    const following = tally.follow(executor);
    try {
      // Long enough tasks that many are running when the link goes.
      const spec = (i: number) => ({ function: "short", args: { i, ms: 400 }, endpointId });
      const half = Math.floor(tasks / 2);
      await submitAll(
        executor,
        tally,
        Array.from({ length: half }, (_, i) => spec(i)),
      );
      while (tally.results.size < half / 5) await sleep(50);
      const before = tally.results.size;
      await proxy.cut();
      const cutAt = Date.now();
      log(`emulator cut with ${before}/${half} results in`);
      await sleep(OUTAGE_MS);
      await proxy.restore();
      tally.notes.push(
        `cut for ${Math.round((Date.now() - cutAt) / 100) / 10} s with ${before}/${half} results in; ${tally.results.size - before} arrived during the cut`,
      );
      await submitAll(
        executor,
        tally,
        Array.from({ length: tasks - half }, (_, i) => spec(half + i)),
      );
      const all = await tally.waitForAll(180_000, log);
      if (!all) tally.problems.push("not every task had a result within 180 s of the restore");
      await sleep(3_000);
      const types = [...tally.typesOf(tally.submitted)].map(([t, n]) => `${t} ${n}`).join(", ");
      tally.notes.push(`outcomes: ${types}`);
      for (const [i, agent] of agents.entries()) {
        if (agent.child.exitCode !== null)
          tally.problems.push(`agent ${i} exited during the outage`);
      }
    } finally {
      await executor.close();
      await following;
      await Promise.all(agents.map((a) => a.stop(5_000)));
      await proxy.close();
    }
    return tally.figures();
  },
};
