import type { AgentProcess } from "#local/index.ts";
import { executorFor, type Scenario, sleep, submitAll } from "./scenario.ts";
import { Tally } from "./tally.ts";

const MEMBERS = ["a", "b", "c"] as const;

/**
 * Endpoint groups under a site failure: short tasks to group:<name> with three member
 * endpoints (one agent each, real child processes); once every member has returned results,
 * every agent of one member is killed with SIGKILL. Its in-flight tasks reappear after the
 * visibility timeout and the survivors run them: 0 lost, 0 duplicates surfaced, and the
 * survivors' throughput after the kill.
 */
export const groupFailover: Scenario = {
  name: "group-failover",
  async run({ d, quick, random, log }) {
    const tasks = quick ? 300 : 1_000;
    const tally = new Tally(`group failover (${tasks} tasks, 3 members, 1 killed)`);
    const ids = await Promise.all(MEMBERS.map((m) => d.registerEndpoint(`faults-grp-${m}`)));
    const { group } = await d.conn.control.call("createGroup", {
      name: `faults-grp-${Math.floor(random() * 1e9).toString(36)}`,
      members: ids,
    });
    await d.registerNode("short", "short.ts");
    // Short visibility: the killed member's tasks come back within seconds.
    const config = await d.siteConfig("group", {
      workers: 2,
      visibilityTimeoutSeconds: 4,
      pollWaitSeconds: 1,
      heartbeatIntervalSeconds: 5,
      killGraceSeconds: 1,
      shutdownGraceSeconds: 1,
    });
    const agents: AgentProcess[] = ids.map((id) => d.spawnAgent(id, config));
    const executor = executorFor(d.conn, tally);
    await executor.open();
    const following = tally.follow(executor);
    const byMember = (results: Iterable<{ worker: { endpointId: string } }>) => {
      const all = [...results];
      return ids.map((id) => all.filter((r) => r.worker.endpointId === id).length);
    };
    try {
      const specs = Array.from({ length: tasks }, (_, i) => ({
        function: "short",
        args: { i, ms: 20 + Math.floor(random() * 40) },
        endpointId: group.groupId,
      }));
      const submittedAt = Date.now();
      await submitAll(executor, tally, specs);
      // Mid-run, and only once every member has been seen working.
      const until = Date.now() + 120_000;
      const allWorking = () => byMember(tally.results.values()).every((n) => n > 0);
      while ((tally.results.size < tasks * 0.3 || !allWorking()) && Date.now() < until) {
        await sleep(10);
      }
      const victim = Math.floor(random() * MEMBERS.length);
      const killedAt = Date.now();
      const before = tally.results.size;
      agents[victim]?.kill();
      log(`killed member ${MEMBERS[victim]}'s agent with ${before}/${tasks} results in`);
      const all = await tally.waitForAll(180_000, log);
      if (!all) tally.problems.push("not every task had a result within 180 s");
      // Late duplicates (a killed member's task run again) would arrive now.
      await sleep(3_000);
      const results = [...tally.results.values()];
      const after = results.filter((r) => r.timings.resultSent > killedAt);
      const sent = results.map((r) => r.timings.resultSent);
      const lastSent = Math.max(...sent);
      const firstSent = Math.min(...sent);
      const seconds = Math.max(0.001, (lastSent - killedAt) / 1000);
      const victimAfter = after.filter((r) => r.worker.endpointId === ids[victim]).length;
      // A result the victim sent after its kill would mean the kill did not land.
      if (victimAfter > 0) tally.problems.push(`${victimAfter} results from the killed member`);
      const rerun = results.filter((r) => r.attempt > 1).length;
      tally.notes.push(
        `before the kill: ${before} results from 3 members (${byMember(results.filter((r) => r.timings.resultSent <= killedAt)).join("/")}), ${(before / Math.max(0.001, (killedAt - firstSent) / 1000)).toFixed(1)} tasks/s from the first result; ${((killedAt - submittedAt) / 1000).toFixed(1)} s after the submission began`,
        `after the kill: ${after.length} results in ${seconds.toFixed(1)} s from the 2 survivors (${byMember(after).join("/")}): ${(after.length / seconds).toFixed(1)} tasks/s; ${rerun} tasks ran again (attempt > 1)`,
      );
    } finally {
      await executor.close();
      await following;
      await Promise.all(agents.map((a) => a.stop(5_000)));
      await d.conn.control.call("deleteGroup", { name: group.name }).catch(() => undefined);
    }
    return tally.figures();
  },
};
