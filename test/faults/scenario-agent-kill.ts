import type { AgentProcess } from "#local/index.ts";
import { executorFor, type Scenario, sleep, submitAll } from "./scenario.ts";
import { Tally } from "./tally.ts";

/**
 * Short tasks while agents (real child processes) are killed with SIGKILL at random moments and
 * replaced: every task still gets exactly one result surfaced.
 */
export const agentKill: Scenario = {
  name: "agent-sigkill",
  async run({ d, quick, random, log }) {
    const tasks = quick ? 200 : 1_000;
    const kills = quick ? 3 : 6;
    const tally = new Tally(`agent SIGKILL (${tasks} tasks)`);
    const endpointId = await d.registerEndpoint("faults-kill");
    await d.registerNode("short", "short.ts");
    // Short visibility: a dead agent's tasks come back within seconds, not minutes.
    const config = await d.siteConfig("kill", {
      workers: 2,
      visibilityTimeoutSeconds: 4,
      pollWaitSeconds: 1,
      heartbeatIntervalSeconds: 5,
      killGraceSeconds: 1,
      shutdownGraceSeconds: 1,
    });
    const agents: AgentProcess[] = [0, 1, 2].map(() => d.spawnAgent(endpointId, config));
    const executor = executorFor(d.conn, tally);
    await executor.open();
    const following = tally.follow(executor);
    try {
      const specs = Array.from({ length: tasks }, (_, i) => ({
        function: "short",
        args: { i, ms: 10 + Math.floor(random() * 40) },
        endpointId,
      }));
      await submitAll(executor, tally, specs);
      // Kill points spread over the run (by results in), so each kill lands mid-run.
      const points = Array.from({ length: kills }, () => 0.1 + random() * 0.75).sort();
      log(
        `submitted ${tasks} tasks; killing agents at ${points.map((p) => p.toFixed(2)).join(", ")} of the run`,
      );
      for (const [k, point] of points.entries()) {
        const until = Date.now() + 120_000;
        while (tally.results.size < point * tasks && Date.now() < until) await sleep(10);
        const victim = Math.floor(random() * agents.length);
        const agent = agents[victim];
        if (!agent) continue;
        agent.kill();
        tally.notes.push(
          `kill ${k + 1}: agent pid ${agent.child.pid} (SIGKILL) with ${tally.results.size}/${tasks} results in`,
        );
        log(`kill ${k + 1} at ${tally.results.size}/${tasks}`);
        await sleep(100 + random() * 400);
        agents[victim] = d.spawnAgent(endpointId, config);
      }
      const all = await tally.waitForAll(180_000, log);
      log(`all results in`);
      if (!all) tally.problems.push("not every task had a result within 180 s");
      // Late duplicates (a killed agent's task run twice) would arrive now.
      await sleep(3_000);
      const types = [...tally.typesOf(tally.submitted)].map(([t, n]) => `${t} ${n}`).join(", ");
      tally.notes.push(`${kills} SIGKILLs, agents restarted; outcomes: ${types}`);
      const attempts = [...tally.results.values()].filter((r) => r.attempt > 1).length;
      tally.notes.push(`${attempts} tasks ran again after their agent died (attempt > 1)`);
    } finally {
      await executor.close();
      await following;
      await Promise.all(agents.map((a) => a.stop(5_000)));
    }
    return tally.figures();
  },
};
