// Baseline of the latency benchmark: the transport's own round trip, with nothing of Ferry's.
// Long-polls the request queue; for each message sends the body back to the reply queue, then
// deletes it (the same order as Ferry's agent: reply first, delete after).
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { createAwsClients, EMULATOR_CREDENTIALS } from "#core/aws/index.ts";
import type { WorkerArgs } from "./raw-queues.ts";

const args = JSON.parse(process.argv[2] ?? "{}") as WorkerArgs;
const { sqs } = createAwsClients({
  region: args.region,
  endpoints: { sqs: args.sqsEndpoint },
  credentials: EMULATOR_CREDENTIALS,
});
const stop = new AbortController();
process.on("SIGTERM", () => stop.abort());
process.send?.("ready");
while (!stop.signal.aborted) {
  const out = await sqs
    .send(
      new ReceiveMessageCommand({
        QueueUrl: args.requestQueueUrl,
        WaitTimeSeconds: 20,
        MaxNumberOfMessages: 10,
      }),
      { abortSignal: stop.signal },
    )
    .catch(() => ({ Messages: [] }));
  await Promise.all(
    (out.Messages ?? []).map(async (m) => {
      await sqs.send(
        new SendMessageCommand({ QueueUrl: args.replyQueueUrl, MessageBody: m.Body ?? "" }),
      );
      await sqs.send(
        new DeleteMessageCommand({
          QueueUrl: args.requestQueueUrl,
          ReceiptHandle: m.ReceiptHandle,
        }),
      );
    }),
  );
}
sqs.destroy();
process.exit(0);
