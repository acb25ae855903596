import { classifyAwsError } from "#core/aws/index.ts";
import { sleep } from "#core/backoff.ts";
import type { Connection } from "#core/connect.ts";
import { describeError, ProtocolError } from "#core/errors.ts";
import type { LiveLogRecord, ResultMessage } from "#core/protocol/index.ts";
import { type LiveLogTarget, liveLogLocation, readLiveLog } from "#core/store/index.ts";
import { readJournal, type SessionSummary } from "#sdk/index.ts";
import type { LogPrinter } from "./log-printer.ts";
import { collectParked } from "./sessions.ts";

/** Between looks at the journal and the live log; agents publish every 3 s by default. */
const POLL_MS = 1_000;
/** Parked results are asked for every this many polls (one control-plane call each). */
const PARKED_EVERY = 15;

/** How following ended: the task's result, the agent's final record, or the signal. */
export type FollowEnding =
  | { how: "result"; result: ResultMessage }
  | { how: "ended"; record: LiveLogRecord }
  | { how: "aborted" };

export interface FollowOptions {
  conn: Connection;
  /** The journal directory, re-read each poll: the client waiting for the result writes it. */
  dir: string;
  summary: SessionSummary;
  taskId: string;
  printer: LogPrinter;
  /** Stops following (the --timeout); every read takes it. */
  signal: AbortSignal;
}

/**
 * Print a task's output as its agent publishes it, until the task ends. It ends when the
 * session's journal (or the control plane's parked results) holds the result, or when the
 * agent's final record says the attempt is over: the latter needs no other client collecting
 * results. Once ended, the rest is printed from the final record, else from the result's tails.
 */
export async function followTask(o: FollowOptions): Promise<FollowEnding> {
  const live = new LiveReader(o);
  for (let poll = 0; ; poll++) {
    const result = await resultOf(o, poll);
    const record = await live.read();
    if (result) {
      if (record) o.printer.record(record);
      const complete = record?.state === "ended" && record.attempt === result.attempt;
      if (!complete) o.printer.result(result);
      return { how: "result", result };
    }
    if (record) {
      o.printer.record(record);
      if (record.state === "ended") return { how: "ended", record };
    }
    if (!(await sleep(POLL_MS, o.signal))) return { how: "aborted" };
  }
}

/** The task's result if the journal has it (asking for parked results now and then). */
async function resultOf(o: FollowOptions, poll: number): Promise<ResultMessage | undefined> {
  const summary = (await readJournal(o.dir, o.summary.sessionId)) ?? o.summary;
  if (poll > 0 && poll % PARKED_EVERY === 0) {
    await collectParked(o.conn.control, o.dir, summary).catch(() => 0);
  }
  return summary.tasks.get(o.taskId)?.result;
}

/** Reads the task's live log; a read that fails is skipped, one that is refused stops them. */
class LiveReader {
  readonly #target: LiveLogTarget | undefined;
  readonly #expected: { taskId: string; sessionId: string };
  #off = false;

  constructor(o: FollowOptions) {
    const { ownerId, sessionId } = o.summary;
    this.#expected = { taskId: o.taskId, sessionId };
    // Sessions journaled before owner ids were: no key to read, so the result's tails only.
    this.#target =
      ownerId === undefined
        ? undefined
        : {
            s3: o.conn.aws.s3,
            bucket: o.conn.deployment.bucketName,
            key: liveLogLocation(ownerId, sessionId, o.taskId),
            signal: o.signal,
          };
  }

  async read(): Promise<LiveLogRecord | undefined> {
    if (!this.#target || this.#off) return undefined;
    try {
      return await readLiveLog(this.#target, this.#expected);
    } catch (error) {
      // A record that is not one, or AccessDenied: asking again will not help.
      if (!(error instanceof ProtocolError)) {
        const failure = classifyAwsError(error);
        if (failure === "aborted" || failure === "transient") return undefined;
      }
      this.#off = true;
      process.stderr.write(
        `ferry: live output unavailable (${describeError(error)}); waiting for the result\n`,
      );
      return undefined;
    }
  }
}
