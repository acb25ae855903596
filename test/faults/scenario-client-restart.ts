import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readJournal } from "#sdk/index.ts";
import { executorFor, journalDirOf, type Scenario, sleep } from "./scenario.ts";
import { Tally } from "./tally.ts";

const CHILD = fileURLToPath(new URL("./client-child.ts", import.meta.url));

/**
 * A client process submits tasks and is killed with SIGKILL at a random moment (possibly in
 * the middle of a submission); a new client reattaches with open(sessionId) from the journal
 * and collects every task the journal lists, each once.
 */
export const clientRestart: Scenario = {
  name: "client-restart",
  async run({ d, quick, random, log }) {
    const rounds = quick ? 2 : 6;
    const perRound = quick ? 100 : 200;
    const tally = new Tally(`client SIGKILL + reattach (${rounds} rounds)`);
    const endpointId = await d.registerEndpoint("faults-client");
    await d.registerNode("short", "short.ts");
    const config = await d.siteConfig("client", {
      workers: 8,
      pollWaitSeconds: 1,
      shutdownGraceSeconds: 1,
    });
    const agent = d.spawnAgent(endpointId, config);
    const journalDir = journalDirOf(d, "client-restart");
    try {
      for (let round = 0; round < rounds; round++) {
        const child = spawn(process.execPath, [CHILD, endpointId, journalDir, String(perRound)], {
          env: d.env,
          stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
        });
        const deadline = Date.now() + 30_000;
        while (!/^session /m.test(out) && Date.now() < deadline) await sleep(10);
        const sessionId = /^session (\S+)/m.exec(out)?.[1];
        if (!sessionId) throw new Error(`client child printed no session: ${out}`);
        // Odd rounds: a random moment, from the first batch to after the last. Even rounds:
        // the worst moment, tasks journaled but their batch still being sent.
        const midSend = round % 2 === 1;
        if (midSend) await killMidSend(journalDir, sessionId, () => out);
        else {
          while (!/^submitted /m.test(out) && Date.now() < deadline) await sleep(5);
          await sleep(random() * (quick ? 400 : 800));
        }
        child.kill("SIGKILL");
        await once(child, "exit");
        const submittedLines = out.match(/^submitted (\d+)$/gm) ?? [];
        const surfacedBefore = new Set(
          (out.match(/^result (\S+)$/gm) ?? []).map((l) => l.slice(7)),
        );
        const journal = await readJournal(journalDir, sessionId);
        if (!journal) throw new Error(`no journal for session ${sessionId}`);
        const journaled = [...journal.tasks.values()];
        const resultsInJournal = journaled.filter((t) => t.result).length;
        tally.notes.push(
          `round ${round + 1}: killed ${midSend ? "mid-send" : "at random"} after ${submittedLines.at(-1) ?? "submitted 0"} (${journaled.length} in journal, ${resultsInJournal} with results)`,
        );
        for (const t of journaled) {
          tally.submitted.add(t.taskId);
          if (t.result) tally.results.set(t.taskId, t.result);
        }
        // The restarted client: same journal directory, same session.
        const executor = executorFor(d.conn, tally, journalDir);
        await executor.open(sessionId);
        const following = tally.follow(executor);
        const pending = executor.pendingTaskIds();
        log(`round ${round + 1}: reattached to ${sessionId}, ${pending.length} pending`);
        if (!(await tally.waitForAll(180_000, log))) {
          tally.problems.push(`round ${round + 1}: not every journaled task had a result`);
        }
        await sleep(1_500);
        await executor.close();
        await following;
        // A task the dead client had already surfaced must not be surfaced again.
        for (const id of surfacedBefore) {
          if (tally.surfaced.has(id)) tally.surfaced.set(id, (tally.surfaced.get(id) ?? 0) + 1);
        }
      }
    } finally {
      await agent.stop(5_000);
    }
    return tally.figures();
  },
};

/** Wait until the journal lists more submitted tasks than the child reports sent. */
async function killMidSend(journalDir: string, sessionId: string, out: () => string) {
  const path = join(journalDir, `${sessionId}.jsonl`);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const journaled = (
      (await readFile(path, "utf8").catch(() => "")).match(/"kind":"submitted"/g) ?? []
    ).length;
    const sent = Number(/submitted (\d+)\n(?![\s\S]*submitted)/.exec(out())?.[1] ?? 0);
    if (journaled > sent) return;
    await sleep(1);
  }
}
