import type { Command } from "commander";
import type { Connection } from "#core/connect.ts";
import { ConfigError } from "#core/errors.ts";
import type { EndpointView } from "#core/protocol/index.ts";
import { listAllEndpoints } from "#sdk/endpoints.ts";
import { withConnection } from "../connection.ts";
import { emit, table } from "../output.ts";
import { resolveEndpointId } from "../resolve.ts";

interface JsonOption {
  json?: boolean;
}

const ago = (at: number | undefined) =>
  at === undefined ? "never" : `${Math.max(0, Math.round((Date.now() - at) / 1000))}s ago`;

function viewRow(v: EndpointView): string[] {
  const total = v.agents.reduce((n, a) => n + a.slots.total, 0);
  const busy = v.agents.reduce((n, a) => n + a.slots.busy, 0);
  return [
    v.endpoint.name,
    v.endpoint.endpointId,
    v.status,
    String(v.agents.length),
    `${busy}/${total}`,
    ago(v.lastHeartbeat),
  ];
}
const HEADERS = ["NAME", "ENDPOINT ID", "STATUS", "AGENTS", "BUSY", "LAST HEARTBEAT"];

export function registerEndpointCommands(program: Command): void {
  const endpoint = program
    .command("endpoint")
    .description("register, list and run compute endpoints");
  declareRegister(endpoint);
  declareRename(endpoint);
  declareDeregister(endpoint);
  declareList(endpoint);
  declareStatus(endpoint);
  declareStart(endpoint);
}

function declareRegister(endpoint: Command): void {
  endpoint
    .command("register <name>")
    .description(
      "register an endpoint (creates its task queue) and print its UUID; a name already registered returns that endpoint",
    )
    .option("--id <uuid>", "re-register this id (idempotent)")
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      "\nExamples:\n  ferry endpoint register theta-cpu\n  ferry endpoint register theta-cpu --json | jq -r .endpointId",
    )
    .action((name: string, opts: JsonOption & { id?: string }) =>
      withConnection((conn) => registerEndpoint(conn, name, opts)),
    );
}

function declareRename(endpoint: Command): void {
  endpoint
    .command("rename <endpoint> <name>")
    .description("give an endpoint a new name (its UUID, queue and agents stay)")
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExample:\n  ferry endpoint rename cpu theta-cpu")
    .action((idOrName: string, name: string, opts: JsonOption) =>
      withConnection((conn) => renameEndpoint(conn, idOrName, name, opts)),
    );
}

function declareDeregister(endpoint: Command): void {
  endpoint
    .command("deregister <endpoint>")
    .description("remove an endpoint and delete its task queue (refused while tasks wait in it)")
    .option("--force", "deregister even though tasks are queued (they are deleted with the queue)")
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExample:\n  ferry endpoint deregister old-cpu")
    .action((idOrName: string, opts: JsonOption & { force?: boolean }) =>
      withConnection((conn) => deregisterEndpoint(conn, idOrName, opts)),
    );
}

function declareList(endpoint: Command): void {
  endpoint
    .command("list")
    .description("all endpoints with their status (online / stale / offline)")
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExample:\n  ferry endpoint list")
    .action((opts: JsonOption) => withConnection((conn) => listEndpoints(conn, opts)));
}

function declareStatus(endpoint: Command): void {
  endpoint
    .command("status <endpoint>")
    .description("one endpoint's status, agents and running tasks (UUID or name)")
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExample:\n  ferry endpoint status theta-cpu")
    .action((idOrName: string, opts: JsonOption) =>
      withConnection((conn) => endpointStatus(conn, idOrName, opts)),
    );
}

function declareStart(endpoint: Command): void {
  endpoint
    .command("start <endpoint>")
    .description("run this site's agent in the foreground (SIGTERM/SIGINT drain it)")
    .option("-c, --config <file>", "site config file (JSON or YAML)")
    .option(
      "--request-meter <file>",
      "count this agent's AWS requests and keep the tally in this JSON file (every 5 s and on exit)",
    )
    .addHelpText(
      "after",
      "\nExample:\n  ferry endpoint start theta-cpu --config site.yaml 2>agent.log",
    )
    .action((idOrName: string, opts: StartOptions) =>
      withConnection((conn) => startAgent(conn, idOrName, opts)),
    );
}

async function registerEndpoint(
  conn: Connection,
  name: string,
  opts: JsonOption & { id?: string },
): Promise<void> {
  const { endpoint: rec } = await conn.control.call("registerEndpoint", {
    name,
    ...(opts.id ? { endpointId: opts.id } : {}),
  });
  emit(
    Boolean(opts.json),
    rec,
    () =>
      `${rec.endpointId}\nregistered endpoint ${rec.name}; start its agent with: ferry endpoint start ${rec.endpointId}`,
  );
}

async function renameEndpoint(
  conn: Connection,
  idOrName: string,
  name: string,
  opts: JsonOption,
): Promise<void> {
  const endpointId = await resolveEndpointId(conn.control, idOrName);
  const { endpoint: rec } = await conn.control.call("renameEndpoint", { endpointId, name });
  emit(Boolean(opts.json), rec, () => `endpoint ${rec.endpointId} is now named ${rec.name}`);
}

/** Refused while tasks wait in the endpoint's queue, unless --force deletes them with it. */
async function deregisterEndpoint(
  conn: Connection,
  idOrName: string,
  opts: JsonOption & { force?: boolean },
): Promise<void> {
  const endpointId = await resolveEndpointId(conn.control, idOrName);
  const view = await conn.control.call("describeEndpoint", { endpointId });
  const waiting = await queuedTasks(conn, view.endpoint.queueUrl);
  if (waiting > 0 && !opts.force) {
    throw new ConfigError(`endpoint ${view.endpoint.name} has ${waiting} task(s) in its queue`, {
      hint: "let them finish or cancel them, or pass --force to delete them with the queue",
    });
  }
  await conn.control.call("deregisterEndpoint", { endpointId });
  emit(
    Boolean(opts.json),
    { endpointId, deletedTasks: waiting },
    () =>
      `endpoint ${view.endpoint.name} (${endpointId}) deregistered${waiting ? `; ${waiting} queued task(s) deleted with its queue` : ""}`,
  );
}

async function listEndpoints(conn: Connection, opts: JsonOption): Promise<void> {
  const endpoints = await listAllEndpoints(conn.control);
  emit(Boolean(opts.json), endpoints, () =>
    endpoints.length === 0
      ? "no endpoints yet: ferry endpoint register <name>"
      : table(HEADERS, endpoints.map(viewRow)),
  );
}

async function endpointStatus(conn: Connection, idOrName: string, opts: JsonOption): Promise<void> {
  const endpointId = await resolveEndpointId(conn.control, idOrName);
  const view = await conn.control.call("describeEndpoint", { endpointId });
  emit(Boolean(opts.json), view, () =>
    [
      table(HEADERS, [viewRow(view)]),
      ...view.agents.map(
        (a) =>
          `  agent ${a.agentId} on ${a.host}: ${a.slots.busy}/${a.slots.total} busy, heartbeat ${ago(a.at)}` +
          (a.runningTaskIds.length ? `, running ${a.runningTaskIds.join(", ")}` : ""),
      ),
    ].join("\n"),
  );
}

interface StartOptions {
  config?: string;
  requestMeter?: string;
}

async function startAgent(
  connection: Connection,
  idOrName: string,
  opts: StartOptions,
): Promise<void> {
  const tally = opts.requestMeter ? await meterToFile(connection, opts.requestMeter) : undefined;
  try {
    await serveEndpoint(connection, idOrName, opts);
  } finally {
    await tally?.stop();
  }
}

/**
 * Meters the agent's clients, in this process: task code runs in child processes without
 * them, so it cannot add to or forge the counts.
 */
async function meterToFile(connection: Connection, path: string) {
  const { RequestMeter } = await import("#core/aws/index.ts");
  const { keepWriting, writeTallyFile } = await import("#core/cost/index.ts");
  const meter = new RequestMeter();
  meter.attachAll(connection.aws);
  // A bad path fails now, not at the first tick.
  await writeTallyFile(path, meter).catch((cause: unknown) => {
    throw new ConfigError(`cannot write the request tally ${path}`, {
      cause,
      hint: "pass --request-meter a file in a directory that exists and that this user can write",
    });
  });
  return keepWriting(() => writeTallyFile(path, meter), 5_000);
}

async function serveEndpoint(
  connection: Connection,
  idOrName: string,
  opts: StartOptions,
): Promise<void> {
  const endpointId = await resolveEndpointId(connection.control, idOrName);
  // Loaded here so other commands do not pay for the agent's modules at start-up.
  const { runAgentProcess } = await import("#agent/index.ts");
  await runAgentProcess({
    endpointId,
    connection,
    ...(opts.config ? { configPath: opts.config } : {}),
  });
}

/** Messages waiting in or taken from the queue (SQS's approximate counts). */
async function queuedTasks(conn: Connection, queueUrl: string): Promise<number> {
  // Loaded here: `ferry endpoint list` and the others never touch SQS.
  const { GetQueueAttributesCommand } = await import("@aws-sdk/client-sqs");
  const out = await conn.aws.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  const a = out.Attributes ?? {};
  return (
    Number(a.ApproximateNumberOfMessages ?? 0) +
    Number(a.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}
