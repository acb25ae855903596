import type { Command } from "commander";
import { loadEnv } from "#core/config/index.ts";
// The daemon module only: local/index.ts pulls in aws-cdk-lib, seconds of start-up for every command.
import { localDown, localLogPath, localStatus, localUp } from "#local/daemon.ts";
import { emit } from "../output.ts";

export function registerLocalCommands(program: Command): void {
  const local = program
    .command("local")
    .description("the embedded local deployment: SQS + S3 emulator and the registration function");
  local
    .command("up")
    .description("start the local deployment in the background and write the deployment file")
    .option("--port <port>", "emulator port (0: any free port)", "0")
    .option("--json", "machine-readable output")
    .action(async (opts: { port: string; json?: boolean }) => {
      const env = loadEnv();
      const { state, started } = await localUp({ home: env.home, port: Number(opts.port) });
      emit(Boolean(opts.json), { ...state, started }, () =>
        [
          started ? "local deployment started" : "local deployment already running",
          `  emulator (SQS, S3)  ${state.awsEndpointUrl}`,
          `  lambda invoke API   ${state.lambdaEndpointUrl}`,
          `  deployment file     ${state.deploymentPath}`,
          `  log                 ${localLogPath(env.home)}`,
          "next: ferry endpoint register <name>",
        ].join("\n"),
      );
    });
  local
    .command("down")
    .description("stop the local deployment (its queues and objects are in memory and go with it)")
    .option("--json", "machine-readable output")
    .action(async (opts: { json?: boolean }) => {
      const stopped = await localDown(loadEnv().home);
      emit(Boolean(opts.json), { stopped }, () =>
        stopped ? "local deployment stopped" : "no local deployment was running",
      );
    });
  local
    .command("status")
    .description("is the local deployment running, and where")
    .option("--json", "machine-readable output")
    .action(async (opts: { json?: boolean }) => {
      const state = await localStatus(loadEnv().home);
      emit(Boolean(opts.json), state ? { running: true, ...state } : { running: false }, () =>
        state
          ? `running (pid ${state.pid}) emulator ${state.awsEndpointUrl}, lambda ${state.lambdaEndpointUrl}`
          : "not running: start it with `ferry local up`",
      );
      if (!state) process.exitCode = 1;
    });
}
