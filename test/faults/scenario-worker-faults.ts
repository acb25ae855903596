import type { TaskSpec } from "#sdk/index.ts";
import { executorFor, type Scenario, sleep, submitAll } from "./scenario.ts";
import { Tally } from "./tally.ts";

const FLOOD_MIB = 50;
const SHELL_FLOOD = `const c = "y".repeat(1 << 20); let n = 0;
const next = () => { while (n < ${FLOOD_MIB}) { n++; if (!process.stdout.write(c)) return process.stdout.once("drain", next); }
  process.stdout.write("\\n" + JSON.stringify({ done: true }) + "\\n"); };
next();`;

interface Fault {
  fn: string;
  args: unknown;
  walltimeSeconds?: number;
  /** The outcome the agent must report ("ok" or an error type). */
  expect: string;
}

const FAULTS: Fault[] = [
  { fn: "crash", args: {}, expect: "WorkerCrashed" },
  { fn: "hang", args: {}, walltimeSeconds: 2, expect: "Timeout" },
  // A node function's stdout is not its result: the flood is cut to a tail, the value arrives.
  { fn: "flood", args: { mb: FLOOD_MIB }, expect: "ok" },
  { fn: "sh-crash", args: {}, expect: "FunctionError" },
  { fn: "sh-hang", args: {}, walltimeSeconds: 2, expect: "Timeout" },
  // A shell function's stdout is its result: 50 MiB of it is refused with the size.
  { fn: "sh-flood", args: {}, expect: "FunctionError" },
];

/**
 * Worker children that crash, hang past their walltime or flood stdout, mixed with normal
 * tasks: each fault is reported with its reason, and the same agent process keeps serving.
 */
export const workerFaults: Scenario = {
  name: "worker-faults",
  async run({ d, quick, log }) {
    const repeats = quick ? 1 : 3;
    const normal = quick ? 30 : 100;
    const tally = new Tally("worker crash/hang/flood", { allOk: false });
    const endpointId = await d.registerEndpoint("faults-worker");
    await Promise.all([
      d.registerNode("short", "short.ts"),
      d.registerNode("crash", "crash.ts"),
      d.registerNode("hang", "hang.ts"),
      d.registerNode("flood", "flood.ts"),
      d.registerShell("sh-crash", "process.stderr.write('shell boom\\n'); process.exit(4)"),
      d.registerShell("sh-hang", "setInterval(() => {}, 1000)"),
      d.registerShell("sh-flood", SHELL_FLOOD),
    ]);
    const config = await d.siteConfig("worker", {
      workers: 4,
      pollWaitSeconds: 1,
      killGraceSeconds: 1,
      shutdownGraceSeconds: 1,
    });
    const agent = d.spawnAgent(endpointId, config);
    const pid = agent.child.pid;
    const executor = executorFor(d.conn, tally);
    await executor.open();
    const following = tally.follow(executor);
    try {
      const expected = new Map<string, string>();
      const faultSpecs: TaskSpec[] = [];
      for (let r = 0; r < repeats; r++) {
        for (const f of FAULTS) {
          faultSpecs.push({
            function: f.fn,
            args: f.args,
            endpointId,
            ...(f.walltimeSeconds ? { walltimeSeconds: f.walltimeSeconds } : {}),
          });
        }
      }
      const mixed: TaskSpec[] = [];
      const normalSpec = (i: number): TaskSpec => ({ function: "short", args: { i }, endpointId });
      faultSpecs.forEach((spec, i) => {
        mixed.push(spec, normalSpec(i));
      });
      const ids = await submitAll(executor, tally, mixed, 10);
      ids.forEach((id, i) => {
        const fault = FAULTS[Math.floor(i / 2) % FAULTS.length];
        expected.set(id, i % 2 === 0 ? (fault?.expect ?? "?") : "ok");
      });
      const first = await tally.waitForAll(180_000, log);
      log(`faults done (${first ? "all" : "not all"} reported); sending ${normal} normal tasks`);
      // After every fault, the agent still serves normal tasks.
      const after = await submitAll(
        executor,
        tally,
        Array.from({ length: normal }, (_, i) => normalSpec(1_000 + i)),
      );
      for (const id of after) expected.set(id, "ok");
      if (!(await tally.waitForAll(180_000, log)))
        tally.problems.push("not every task had a result");
      await sleep(1_000);
      for (const [id, want] of expected) {
        const r = tally.results.get(id);
        const got = r === undefined ? "lost" : r.ok ? "ok" : r.error.type;
        if (got !== want) tally.problems.push(`task ${id}: expected ${want}, got ${got}`);
      }
      for (const f of FAULTS) {
        const id = ids[FAULTS.indexOf(f) * 2];
        const r = id === undefined ? undefined : tally.results.get(id);
        const what =
          r === undefined
            ? "none"
            : r.ok
              ? `ok, stdout tail ${r.stdoutTail?.length ?? 0} chars`
              : `${r.error.type}: ${r.error.message.slice(0, 90)}`;
        tally.notes.push(`${f.fn} -> ${what}`);
      }
      if (agent.child.exitCode !== null || agent.child.signalCode !== null) {
        tally.problems.push("the agent process died");
      } else {
        tally.notes.push(`the same agent process (pid ${pid}) served every task`);
      }
    } finally {
      await executor.close();
      await following;
      await agent.stop(5_000);
    }
    return tally.figures();
  },
};
