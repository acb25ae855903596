/**
 * A client process for the restart scenario: opens a session with a journal, prints its id,
 * then submits tasks in batches while collecting results, until the parent kills it.
 * argv: <endpointId> <journalDir> <tasks>
 */

import { connect } from "#core/connect.ts";
import { Executor } from "#sdk/index.ts";

const [endpointId = "", journalDir = "", count = "100"] = process.argv.slice(2);
const conn = await connect();
const executor = new Executor({ sqs: conn.aws.sqs, control: conn.control }, { journalDir });
const session = await executor.open();
process.stdout.write(`session ${session.sessionId}\n`);
void (async () => {
  for await (const r of executor.results()) process.stdout.write(`result ${r.taskId}\n`);
})();
const total = Number(count);
for (let i = 0; i < total; i += 25) {
  const specs = Array.from({ length: Math.min(25, total - i) }, (_, j) => ({
    function: "short",
    args: { i: i + j, ms: 30 },
    endpointId,
  }));
  await executor.submitMany(specs);
  process.stdout.write(`submitted ${i + specs.length}\n`);
  await new Promise((resolve) => setTimeout(resolve, 10));
}
// Wait to be killed: the parent decides when.
setInterval(() => undefined, 1_000);
