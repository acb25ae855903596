import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { loadEnv } from "#core/config/index.ts";
import { connect } from "#core/connect.ts";
import type { ResultMessage } from "#core/protocol/index.ts";
import { type AgentProcess, spawnAgent, startLocal } from "#local/index.ts";
import { registerNodeFunction } from "../functions/register.ts";
import { table } from "../output.ts";
import { executorFor, waitForEndpointsOnline } from "../sdk/index.ts";

const example = (name: string) =>
  fileURLToPath(new URL(`../../examples/functions/${name}`, import.meta.url));

/**
 * The local demo: a whole deployment on this machine (emulator, registration function, two
 * endpoints "cpu" and "gpu" with their agents as child processes) running a batch of tasks.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command("demo")
    .description(
      "run Ferry end to end on this machine: local deployment, two endpoints, a batch of tasks",
    )
    .option("--tasks <n>", "tasks per endpoint", "20")
    .option("--keep", "leave the demo's files (deployment, agent logs) in place")
    .action(async (opts: { tasks: string; keep?: boolean }) => {
      const home = await mkdtemp(join(tmpdir(), "ferry-demo-"));
      const say = (line: string) => process.stdout.write(`${line}\n`);
      say(`ferry demo: starting the local deployment in ${home}`);
      const local = await startLocal({ home });
      const env = { ...process.env, FERRY_HOME: home, FERRY_DEPLOYMENT: local.deploymentPath };
      const conn = await connect(loadEnv(env));
      const agents: AgentProcess[] = [];
      const executor = executorFor(conn);
      try {
        const deps = { s3: conn.aws.s3, bucket: conn.deployment.bucketName, control: conn.control };
        await registerNodeFunction(deps, example("hello.ts"), "hello");
        await registerNodeFunction(deps, example("sum-squares.ts"), "sum-squares");
        say("registered functions hello and sum-squares");
        const endpoints: Record<string, string> = {};
        for (const name of ["cpu", "gpu"]) {
          const { endpoint } = await conn.control.call("registerEndpoint", { name });
          endpoints[name] = endpoint.endpointId;
          agents.push(
            spawnAgent({
              endpointId: endpoint.endpointId,
              env,
              logFile: join(home, `agent-${name}.log`),
            }),
          );
          say(`endpoint ${name} ${endpoint.endpointId}: agent started`);
        }
        await waitForEndpointsOnline(conn.control, Object.values(endpoints), 60_000);
        say("both agents online (heartbeats received)");
        const perEndpoint = Number(opts.tasks);
        const submitted: Promise<ResultMessage>[] = [];
        for (const [name, endpointId] of Object.entries(endpoints)) {
          for (let i = 0; i < perEndpoint; i++) {
            const task =
              i % 2 === 0
                ? executor.submit("hello", { name: `${name}-${i}` }, { endpointId, topic: "hello" })
                : executor.submit(
                    "sum-squares",
                    { n: 1_000 * i },
                    { endpointId, topic: "compute" },
                  );
            submitted.push(task.then((t) => t.result));
          }
        }
        // One deliberate failure, to show what a failed task looks like.
        submitted.push(
          executor
            .submit("sum-squares", { n: -1 }, { endpointId: endpoints.cpu ?? "", topic: "compute" })
            .then((t) => t.result),
        );
        let done = 0;
        const total = submitted.length;
        const progress = () => {
          const width = 30;
          const filled = Math.round((done / total) * width);
          const line = `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} results`;
          if (process.stdout.isTTY) process.stdout.write(`\r${line}`);
          else if (done === total || done % 10 === 0) say(line);
        };
        const results = await Promise.all(
          submitted.map((p) =>
            p.then((r) => {
              done++;
              progress();
              return r;
            }),
          ),
        );
        if (process.stdout.isTTY) say("");
        summarize(results, endpoints, say);
      } finally {
        await executor.close({ closeSession: true }).catch(() => undefined);
        await Promise.all(agents.map((a) => a.stop(10_000)));
        conn.close();
        await local.stop();
        if (!opts.keep) await rm(home, { recursive: true, force: true });
      }
    });
}

function summarize(
  results: ResultMessage[],
  endpoints: Record<string, string>,
  say: (l: string) => void,
) {
  const nameOf = Object.fromEntries(Object.entries(endpoints).map(([n, id]) => [id, n]));
  const rows = Object.values(endpoints).map((id) => {
    const mine = results.filter((r) => r.worker.endpointId === id);
    const rtt = mine
      .map((r) => (r.timings.resultReceived ?? r.timings.resultSent) - r.timings.created)
      .sort((a, b) => a - b);
    const median = rtt[Math.floor(rtt.length / 2)] ?? 0;
    return [
      nameOf[id] ?? id,
      String(mine.filter((r) => r.ok).length),
      String(mine.filter((r) => !r.ok).length),
      `${median} ms`,
    ];
  });
  say(table(["ENDPOINT", "OK", "FAILED", "MEDIAN ROUND TRIP"], rows));
  const failed = results.find((r) => !r.ok);
  if (failed && !failed.ok)
    say(`a failed task reports its reason: ${failed.error.type}: ${failed.error.message}`);
  const hello = results.find((r) => r.ok && r.topic === "hello");
  if (hello?.ok && "inline" in hello.value) say(`a result: ${JSON.stringify(hello.value.inline)}`);
}
