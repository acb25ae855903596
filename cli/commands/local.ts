import { type Command, Option } from "commander";
import { LOCAL_BACKENDS, type LocalBackendName, loadEnv } from "#core/config/index.ts";
// The daemon module only: local/index.ts pulls in aws-cdk-lib, seconds of start-up for every command.
import { type LocalState, localDown, localLogPath, localStatus, localUp } from "#local/daemon.ts";
import { emit } from "../output.ts";

interface JsonOption {
  json?: boolean;
}

interface UpOptions extends JsonOption {
  port: string;
  backend?: LocalBackendName;
}

export function registerLocalCommands(program: Command): void {
  const local = program
    .command("local")
    .description("the embedded local deployment: SQS + S3 emulator and the registration function");
  local
    .command("up")
    .description("start the local deployment in the background and write the deployment file")
    .option("--port <port>", "emulator port (compat: its SQS port; 0: any free port)", "0")
    .addOption(
      new Option(
        "--backend <name>",
        "emulator: fauxqs (fast, in memory) or compat (local-aws-sqs + s3rver, stricter); default $FERRY_LOCAL_BACKEND or fauxqs",
      ).choices(LOCAL_BACKENDS),
    )
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExamples:\n  ferry local up\n  ferry local up --backend compat --json")
    .action((opts: UpOptions) => localUpCommand(opts));
  local
    .command("down")
    .description("stop the local deployment (its queues and objects are in memory and go with it)")
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExample:\n  ferry local down")
    .action((opts: JsonOption) => localDownCommand(opts));
  local
    .command("status")
    .description("is the local deployment running, and where")
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExample:\n  ferry local status --json")
    .action((opts: JsonOption) => localStatusCommand(opts));
}

async function localUpCommand(opts: UpOptions): Promise<void> {
  const env = loadEnv();
  // The flag wins over FERRY_LOCAL_BACKEND; with neither, the daemon starts its default.
  const asked = opts.backend ?? env.localBackend;
  const { state, started } = await localUp({
    home: env.home,
    port: Number(opts.port),
    ...(asked ? { backend: asked } : {}),
  });
  emit(Boolean(opts.json), { ...state, started }, () =>
    [
      started
        ? `local deployment started (backend ${state.backend})`
        : `local deployment already running (backend ${state.backend})`,
      ...(asked && asked !== state.backend
        ? [`  asked for backend ${asked}: run \`ferry local down\` first to switch`]
        : []),
      ...emulatorLines(state),
      `  lambda invoke API   ${state.lambdaEndpointUrl}`,
      `  deployment file     ${state.deploymentPath}`,
      `  log                 ${localLogPath(env.home)}`,
      "next: ferry endpoint register <name>",
    ].join("\n"),
  );
}

async function localDownCommand(opts: JsonOption): Promise<void> {
  const stopped = await localDown(loadEnv().home);
  emit(Boolean(opts.json), { stopped }, () =>
    stopped ? "local deployment stopped" : "no local deployment was running",
  );
}

/** Exits 1 when nothing is running, so scripts can test for it. */
async function localStatusCommand(opts: JsonOption): Promise<void> {
  const state = await localStatus(loadEnv().home);
  emit(Boolean(opts.json), state ? { running: true, ...state } : { running: false }, () =>
    state
      ? `running (pid ${state.pid}, backend ${state.backend}) ${endpointsOf(state)}, lambda ${state.lambdaEndpointUrl}`
      : "not running: start it with `ferry local up`",
  );
  if (!state) process.exitCode = 1;
}

function emulatorLines(state: LocalState): string[] {
  if (state.sqsEndpointUrl === state.s3EndpointUrl) {
    return [`  emulator (SQS, S3)  ${state.sqsEndpointUrl}`];
  }
  return [
    `  SQS emulator        ${state.sqsEndpointUrl}`,
    `  S3 emulator         ${state.s3EndpointUrl}`,
  ];
}

function endpointsOf(state: LocalState): string {
  return state.sqsEndpointUrl === state.s3EndpointUrl
    ? `emulator ${state.sqsEndpointUrl}`
    : `SQS ${state.sqsEndpointUrl}, S3 ${state.s3EndpointUrl}`;
}
