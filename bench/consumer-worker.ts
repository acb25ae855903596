// Baseline of the throughput benchmark: the minimal echo worker a Node user would write with
// sqs-consumer. Receives from the request queue, sends each body to the reply queue; the
// library deletes each message after its handler returns.
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { Consumer } from "sqs-consumer";
import { createAwsClients, EMULATOR_CREDENTIALS } from "#core/aws/index.ts";
import type { WorkerArgs } from "./raw-queues.ts";

const args = JSON.parse(process.argv[2] ?? "{}") as WorkerArgs;
// The same client settings as Ferry's (keep-alive, sockets): only the worker logic differs.
const { sqs } = createAwsClients({
  region: args.region,
  endpoints: { sqs: args.sqsEndpoint },
  credentials: EMULATOR_CREDENTIALS,
});
const consumer = Consumer.create({
  queueUrl: args.requestQueueUrl,
  sqs,
  // A batch is handled concurrently: 8 at once, as the agent's 8 slots.
  batchSize: 8,
  waitTimeSeconds: 20,
  handleMessage: async (message) => {
    await sqs.send(
      new SendMessageCommand({ QueueUrl: args.replyQueueUrl, MessageBody: message.Body ?? "" }),
    );
    return message;
  },
});
consumer.on("error", (err) => console.error(`consumer-worker: ${err.message}`));
consumer.on("started", () => process.send?.("ready"));
process.on("SIGTERM", () => {
  consumer.stop({ abort: true });
  sqs.destroy();
  process.exit(0);
});
consumer.start();
