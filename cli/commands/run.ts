import type { Command } from "commander";
import { connect } from "#core/connect.ts";
import type { ResultMessage } from "#core/protocol/index.ts";
import { ExitCode, emit } from "../output.ts";
import { parseJsonOption, resolveEndpointId } from "../resolve.ts";
import { Executor } from "../sdk/index.ts";

export function registerRunCommand(program: Command): void {
  program
    .command("run <function>")
    .description("run one task on an endpoint and print its result")
    .requiredOption("-e, --endpoint <endpoint>", "endpoint UUID or name")
    .option("-a, --args <json>", "the function's argument, as JSON", "null")
    .option("--topic <topic>", "task type", "default")
    .option("--walltime <seconds>", "kill the task after this long", "3600")
    .option("--timeout <seconds>", "stop waiting for the result after this long", "600")
    .option("--json", "print the whole result message as JSON")
    .action(
      async (
        fn: string,
        opts: {
          endpoint: string;
          args: string;
          topic: string;
          walltime: string;
          timeout: string;
          json?: boolean;
        },
      ) => {
        const args = parseJsonOption(opts.args, "--args");
        const conn = await connect();
        const executor = new Executor({
          sqs: conn.aws.sqs,
          control: conn.control,
          queuePrefix: conn.deployment.queuePrefix,
        });
        let timer: NodeJS.Timeout | undefined;
        try {
          const endpointId = await resolveEndpointId(conn.control, opts.endpoint);
          const { taskId, result } = await executor.submit(fn, args, {
            endpointId,
            topic: opts.topic,
            walltimeSeconds: Number(opts.walltime),
          });
          const timeoutMs = Number(opts.timeout) * 1000;
          const outcome = await Promise.race([
            result,
            new Promise<"timeout">((resolve) => {
              timer = setTimeout(() => resolve("timeout"), timeoutMs);
            }),
          ]);
          if (outcome === "timeout") {
            process.stderr.write(
              `ferry: no result for task ${taskId} after ${opts.timeout}s: is an agent running for this endpoint? (ferry endpoint status ${opts.endpoint})\n`,
            );
            process.exitCode = ExitCode.timeout;
            return;
          }
          printResult(outcome, Boolean(opts.json));
        } finally {
          clearTimeout(timer);
          await executor.close({ closeSession: true }).catch(() => undefined);
          conn.close();
        }
      },
    );
}

function printResult(result: ResultMessage, json: boolean): void {
  if (result.ok) {
    const value = "inline" in result.value ? result.value.inline : result.value.ref;
    emit(json, result, () => JSON.stringify(value, null, 2));
    return;
  }
  if (json) emit(json, result, () => "");
  const tail = result.stderrTail ? `\n${result.stderrTail.trimEnd()}` : "";
  process.stderr.write(
    `ferry: task ${result.taskId} failed: ${result.error.type}: ${result.error.message}${json ? "" : tail}\n`,
  );
  process.exitCode = ExitCode.taskFailed;
}
