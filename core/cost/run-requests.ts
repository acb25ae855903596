// A run directory's aws-requests.json: the campaign client's request tally and, where the run
// could collect them, its agents' tallies.
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { RequestTally } from "../aws/request-meter.ts";
import { ConfigError } from "../errors.ts";

export const RUN_REQUESTS_FILE = "aws-requests.json";

export const AgentRequests = z.object({
  /** The endpoint's name, or its id. */
  name: z.string(),
  tally: RequestTally,
});
export type AgentRequests = z.infer<typeof AgentRequests>;

export const RunRequests = z.object({
  v: z.literal(1),
  /** The steering process's clients (submits, result polls, store reads and writes, control calls). */
  client: RequestTally,
  /** Agents whose tallies the run collected (the local demo's); empty for remote sites. */
  agents: z.array(AgentRequests),
  /** What these counts leave out, one line each, for the report and `ferry campaign cost`. */
  notCounted: z.array(z.string()),
});
export type RunRequests = z.infer<typeof RunRequests>;

/** What no meter here sees, whoever ran the agents. */
export const NOT_COUNTED = [
  "requests the registration function makes inside Lambda (its S3 registry reads and writes, queue creation)",
  "retried ranges of worker reads through presigned URLs (each URL the agent signs is counted once, as the GETs it takes)",
  "S3 storage after the run (objects the lifecycle rule expires later) and free tiers",
];

/** Writes the file whole and then renames it: a run killed mid-write keeps the last good one. */
export async function writeRunRequests(dir: string, value: RunRequests): Promise<void> {
  const path = join(dir, RUN_REQUESTS_FILE);
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(RunRequests.parse(value), null, 2)}\n`);
  await rename(tmp, path);
}

/** The run's counts; a ConfigError saying what to do when the file is missing or malformed. */
export async function readRunRequests(dir: string): Promise<RunRequests> {
  const path = join(dir, RUN_REQUESTS_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new ConfigError(`no ${RUN_REQUESTS_FILE} in ${dir}`, {
      cause,
      hint: "pass a run directory written by `ferry campaign run` or `ferry demo` (runs made before request metering have none)",
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${path} is not JSON`, { cause, hint: "rerun the campaign" });
  }
  const parsed = RunRequests.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      `${path}: ${issue?.path.join(".") || "(top)"}: ${issue?.message ?? "invalid"}`,
      { hint: "the file was written by another Ferry version or edited; rerun the campaign" },
    );
  }
  return parsed.data;
}

/** Reads an agent's tally file (`ferry endpoint start --request-meter <file>`). */
export async function readAgentTally(path: string): Promise<RequestTally> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (cause) {
    throw new ConfigError(`cannot read the agent's request tally ${path}`, {
      cause,
      hint: "the agent writes it every few seconds and when it stops: check it was started with --request-meter",
    });
  }
  return RequestTally.parse(json);
}

/**
 * Adds agents' tally files to the run's aws-requests.json (the local demo, whose agents this
 * machine ran), and drops the note that agents are not counted.
 */
export async function addAgentTallies(
  dir: string,
  agents: { name: string; path: string }[],
): Promise<RunRequests> {
  const run = await readRunRequests(dir);
  for (const agent of agents) {
    run.agents.push({ name: agent.name, tally: await readAgentTally(agent.path) });
  }
  const updated = {
    ...run,
    notCounted: run.notCounted.filter((n) => !n.startsWith("the agents'")),
  };
  await writeRunRequests(dir, updated);
  return updated;
}
