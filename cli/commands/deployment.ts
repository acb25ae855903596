import { DeleteQueueCommand, paginateListQueues } from "@aws-sdk/client-sqs";
import type { Command } from "commander";
import { isQueueMissing } from "#core/aws/index.ts";
import type { Connection } from "#core/connect.ts";
import { queueNames } from "#core/names.ts";
import { withConnection } from "../connection.ts";
import { emit } from "../output.ts";

export function registerDeploymentCommands(program: Command): void {
  const deployment = program
    .command("deployment")
    .description("the deployment itself: what `cdk destroy` leaves behind");
  deployment
    .command("cleanup")
    .description(
      "list (or with --yes delete) the task and result queues the registration function created at run time; run it before `cdk destroy`, with credentials that may delete queues",
    )
    .option("--yes", "delete them (without it, only list them)")
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      "\nExamples:\n  ferry deployment cleanup\n  ferry deployment cleanup --yes && npx cdk destroy",
    )
    .action(async (opts: { yes?: boolean; json?: boolean }) => {
      await withConnection(async (conn) => {
        const queues = await runtimeQueues(conn);
        if (opts.yes) await deleteAll(conn, queues);
        emit(Boolean(opts.json), { deleted: Boolean(opts.yes), queues }, () =>
          [
            ...queues,
            opts.yes
              ? `deleted ${queues.length} queue(s); the bucket and the dead-letter queue are retained by the stack: empty and delete them by hand if you want them gone`
              : `${queues.length} queue(s) created at run time; \`ferry deployment cleanup --yes\` deletes them`,
          ].join("\n"),
        );
      });
    });
}

/**
 * The queues named by this deployment's prefix as task or result queues: the ones the stack's
 * registration function creates at run time, which CloudFormation does not know about. Never
 * the dead-letter queue (named by CloudFormation), and never another stack's queues (whose
 * prefix differs).
 */
async function runtimeQueues(conn: Connection): Promise<string[]> {
  const prefix = conn.deployment.queuePrefix;
  const urls: string[] = [];
  for (const kind of [queueNames.tasks(prefix, ""), queueNames.results(prefix, "")]) {
    for await (const page of paginateListQueues(
      { client: conn.aws.sqs },
      { QueueNamePrefix: kind, MaxResults: 1_000 },
    )) {
      urls.push(...(page.QueueUrls ?? []));
    }
  }
  return urls.sort();
}

async function deleteAll(conn: Connection, urls: readonly string[]): Promise<void> {
  for (const url of urls) {
    await conn.aws.sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch((error: unknown) => {
      if (!isQueueMissing(error)) throw error;
    });
  }
}
