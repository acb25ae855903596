import type { LiveLogRecord, LiveStream, ResultMessage } from "#core/protocol/index.ts";

type Stream = "stdout" | "stderr";
const STREAMS: readonly Stream[] = ["stdout", "stderr"];

export interface PrinterOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processOutput: PrinterOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/**
 * Prints a task's output as successive live-log records reveal it, each byte once: a record
 * says where in its stream its text ends, so only what lies past the last printed offset is
 * new. The task's stdout goes to stdout and its stderr to stderr (with --json: one line per
 * piece on stdout, `{taskId, stream, text}`); notes about gaps go to stderr.
 */
export class LogPrinter {
  readonly #taskId: string;
  readonly #json: boolean;
  readonly #out: PrinterOutput;
  #attempt = 0;
  #printed: Record<Stream, number> = { stdout: 0, stderr: 0 };
  /** The text of the last record printed, per stream: to line up the result's tails with. */
  #last: Record<Stream, string> = { stdout: "", stderr: "" };

  constructor(taskId: string, json: boolean, out: PrinterOutput = processOutput) {
    this.#taskId = taskId;
    this.#json = json;
    this.#out = out;
  }

  /** Print what the record holds past what was printed; an earlier attempt's is ignored. */
  record(record: LiveLogRecord): void {
    if (record.attempt < this.#attempt) return;
    if (record.attempt > this.#attempt) {
      // A redelivered task runs again from the start: its output is new again.
      if (this.#attempt > 0) this.#note(`attempt ${record.attempt} started the task over`);
      this.#attempt = record.attempt;
      this.#printed = { stdout: 0, stderr: 0 };
      this.#last = { stdout: "", stderr: "" };
    }
    for (const stream of STREAMS) this.#stream(stream, record[stream]);
  }

  /**
   * The result's tails, when no final record says the rest: all of them if nothing was
   * printed, else what follows the part already printed.
   */
  result(result: ResultMessage): void {
    for (const stream of STREAMS) {
      const tail = (stream === "stdout" ? result.stdoutTail : result.stderrTail) ?? "";
      const piece = this.#printed[stream] === 0 ? tail : unseenSuffix(this.#last[stream], tail);
      if (piece.length > 0) this.#emit(stream, piece);
    }
  }

  #stream(stream: Stream, s: LiveStream): void {
    const printed = this.#printed[stream];
    if (s.end <= printed) return;
    const bytes = Buffer.from(s.text, "utf8");
    const start = s.end - bytes.length;
    if (start > printed) {
      this.#note(`${start - printed} bytes of ${stream} not shown: only the last 64 KiB are kept`);
    }
    const piece = bytes.subarray(Math.max(0, printed - start)).toString("utf8");
    if (piece.length > 0) this.#emit(stream, piece);
    this.#printed[stream] = s.end;
    this.#last[stream] = s.text;
  }

  #emit(stream: Stream, text: string): void {
    if (this.#json) {
      this.#out.stdout(`${JSON.stringify({ taskId: this.#taskId, stream, text })}\n`);
    } else {
      this.#out[stream](text);
    }
  }

  #note(text: string): void {
    this.#out.stderr(`ferry: ${text}\n`);
  }
}

/**
 * What of `tail` comes after `printed`: the tail minus its longest prefix that `printed` ends
 * with. Used only when a task's final record is missing, so quadratic in 4 KiB is fine.
 */
export function unseenSuffix(printed: string, tail: string): string {
  for (let k = Math.min(printed.length, tail.length); k > 0; k--) {
    if (printed.endsWith(tail.slice(0, k))) return tail.slice(k);
  }
  return tail;
}
