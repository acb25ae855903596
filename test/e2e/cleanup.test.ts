// `cdk destroy` does not know the queues the registration function created at run time:
// `ferry deployment cleanup` finds and deletes them, and nothing else.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListQueuesCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadEnv } from "#core/config/index.ts";
import { type Connection, connect } from "#core/connect.ts";
import { type LocalDeployment, startLocal } from "#local/index.ts";
import { runFerry } from "../helpers/ferry.ts";

let home: string;
let local: LocalDeployment;
let conn: Connection;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  // A deployment of its own: cleanup deletes every runtime queue of the deployment it is given.
  home = await mkdtemp(join(tmpdir(), "ferry-cleanup-"));
  local = await startLocal({ home });
  env = { ...process.env, FERRY_HOME: home, FERRY_DEPLOYMENT: local.deploymentPath };
  conn = await connect(loadEnv(env));
}, 120_000);

afterAll(async () => {
  conn?.close();
  await local?.stop();
  await rm(home, { recursive: true, force: true });
});

it("lists, then deletes, the task and result queues created at run time; the DLQ stays", async () => {
  const { endpoint } = await conn.control.call("registerEndpoint", { name: "doomed" });
  const { session } = await conn.control.call("openSession", {});
  const listed = await runFerry(["deployment", "cleanup", "--json"], { env });
  expect(listed.code, listed.stderr).toBe(0);
  const dry = JSON.parse(listed.stdout) as { deleted: boolean; queues: string[] };
  expect(dry.deleted).toBe(false);
  // Queue URLs name hosts differently from one emulator to another: compare names.
  const names = (urls: string[]) => urls.map((u) => u.split("/").at(-1)).sort();
  expect(names(dry.queues)).toEqual(names([endpoint.queueUrl, session.resultQueueUrl]));

  const done = await runFerry(["deployment", "cleanup", "--yes"], { env });
  expect(done.code, done.stderr).toBe(0);
  expect(done.stdout).toMatch(/deleted 2 queue\(s\)/);
  const left = await conn.aws.sqs.send(new ListQueuesCommand({}));
  expect(names(left.QueueUrls ?? [])).toEqual(names([conn.deployment.deadLetterQueueUrl]));
}, 120_000);
