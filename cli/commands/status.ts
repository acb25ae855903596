import type { Command } from "commander";
import { connect } from "#core/connect.ts";
import { ConfigError } from "#core/errors.ts";
import { journalDirOf, listJournals, readJournal } from "#sdk/index.ts";
import { emit, table } from "../output.ts";
import { DEFAULT_QUEUE_READS, type StatusSnapshot, takeStatus } from "../status-view.ts";

const ago = (at: number | undefined, now: number) =>
  at === undefined ? "never" : `${Math.max(0, Math.round((now - at) / 1000))}s ago`;
const num = (n: number | undefined) => (n === undefined ? "?" : String(n));

function render(s: StatusSnapshot): string {
  const lines = [
    `Ferry status at ${new Date(s.at).toISOString()}`,
    s.endpoints.length === 0
      ? "no endpoints: ferry endpoint register <name>"
      : table(
          [
            "ENDPOINT",
            "ID",
            "STATUS",
            "AGENTS",
            "BUSY",
            "FREE",
            "QUEUED",
            "IN FLIGHT",
            "LAST HEARTBEAT",
          ],
          s.endpoints.map((e) => [
            e.name,
            e.endpointId,
            e.status,
            String(e.agents),
            String(e.busySlots),
            String(e.freeSlots),
            num(e.queued),
            num(e.inFlight),
            ago(e.lastHeartbeat, s.at),
          ]),
        ),
  ];
  if (s.queues.read < s.queues.of) {
    lines.push(
      `queue depth read for ${s.queues.read} of ${s.queues.of} endpoints (sessions' first, then online, stale); --queues all reads every one, one SQS call each`,
    );
  }
  if (s.session) {
    const t = s.session.tasks;
    lines.push(
      "",
      `session ${s.session.sessionId}: ${t.queued} queued, ${t.running} running, ${t.done} done, ${t.failed} failed, ${t.cancelled} cancelled`,
    );
  }
  return lines.join("\n");
}

interface StatusOptions {
  session?: string;
  watch?: string | boolean;
  queues: string;
  json?: boolean;
}

function queueReadsOf(text: string): number {
  if (text === "all") return Number.POSITIVE_INFINITY;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) {
    throw new ConfigError(`--queues: expected a whole number or "all", got "${text}"`);
  }
  return n;
}

export function registerStatusCommand(program: Command): void {
  program
    .command("status")
    .description(
      "endpoints (online/stale/offline, slots, queue depth) and a session's tasks by state",
    )
    .option("-s, --session <id>", "session to summarize (default: the most recent on this machine)")
    .option("-w, --watch [seconds]", "refresh in place every N seconds (default 2) until Ctrl-C")
    .option(
      "--queues <n>",
      `read the queue depth of at most n endpoints (one SQS call each), or "all"`,
      String(DEFAULT_QUEUE_READS),
    )
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      "\nExamples:\n  ferry status --watch\n  ferry status --session 01a230f8-93ae-7173-b31a-7cea50521ec9 --json",
    )
    .action(async (opts: StatusOptions) => {
      const queueReads = queueReadsOf(opts.queues);
      const conn = await connect();
      const dir = journalDirOf(conn);
      const snapshot = async () => {
        const sessionId = opts.session ?? (await listJournals(dir))[0];
        const session = sessionId ? await readJournal(dir, sessionId) : undefined;
        return takeStatus({ control: conn.control, sqs: conn.aws.sqs }, session, queueReads);
      };
      try {
        if (!opts.watch) {
          const s = await snapshot();
          emit(Boolean(opts.json), s, () => render(s));
          return;
        }
        const intervalMs = (typeof opts.watch === "string" ? Number(opts.watch) : 2) * 1000;
        const stop = new AbortController();
        process.once("SIGINT", () => stop.abort());
        while (!stop.signal.aborted) {
          const s = await snapshot();
          if (opts.json) process.stdout.write(`${JSON.stringify(s)}\n`);
          // Clear the screen and home the cursor: a refresh in place, like `watch`.
          else
            process.stdout.write(
              `\x1b[2J\x1b[H${render(s)}\n(refreshing every ${intervalMs / 1000}s; Ctrl-C to stop)\n`,
            );
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, intervalMs);
            stop.signal.addEventListener("abort", () => {
              clearTimeout(timer);
              resolve();
            });
          });
        }
      } finally {
        conn.close();
      }
    });
}
