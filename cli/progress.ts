export interface Progress {
  increment(by?: number): void;
  /**
   * Write a line (with its newline) to `stream` without garbling the bar: on a terminal the
   * bar's line is cleared first and the bar drawn again below what was written.
   */
  print(text: string, stream?: NodeJS.WriteStream): void;
  /** Run `write` (which prints whole lines) with the bar cleared, then draw the bar again. */
  around(write: () => void): void;
  stop(): void;
}

/** At most this often on a terminal: a redraw per result of a fast run is all flicker. */
const REDRAW_MS = 100;
const WIDTH = 40;

/**
 * A progress bar on stderr (stdout stays for results). On a terminal it redraws in place and
 * results are printed above it; elsewhere (CI logs, pipes) it prints a line every 10 %.
 *
 * Hand-written (it replaced cli-progress): that library saves the cursor when it starts and
 * restores it when it stops, so anything printed between (our results, on the same terminal
 * when stdout and stderr share it) was overwritten by the bar and the summary.
 */
export function progressBar(total: number, label: string): Progress {
  return process.stderr.isTTY ? terminalBar(total, label) : loggedBar(total, label);
}

function terminalBar(total: number, label: string): Progress {
  const started = Date.now();
  let done = 0;
  let stopped = false;
  let lastDraw = 0;
  const line = () => {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(fraction * WIDTH);
    const seconds = Math.round((Date.now() - started) / 1000);
    return `${label} [${"█".repeat(filled)}${"░".repeat(WIDTH - filled)}] ${done}/${total} ${Math.round(fraction * 100)}% | ${seconds}s`;
  };
  // Carriage return, erase the line, draw: the cursor stays at the end of the bar's line.
  const draw = () => {
    lastDraw = Date.now();
    process.stderr.write(`\r\x1b[2K${line()}`);
  };
  const clear = () => process.stderr.write("\r\x1b[2K");
  const timer = setInterval(() => {
    if (!stopped) draw();
  }, 1_000);
  timer.unref();
  draw();
  const bar: Progress = {
    increment(by = 1) {
      done += by;
      if (!stopped && (done >= total || Date.now() - lastDraw >= REDRAW_MS)) draw();
    },
    print(text, stream = process.stdout) {
      bar.around(() => stream.write(text));
    },
    around(write) {
      if (stopped) return write();
      clear();
      write();
      draw();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      draw();
      process.stderr.write("\n");
    },
  };
  return bar;
}

function loggedBar(total: number, label: string): Progress {
  let done = 0;
  let lastDecile = 0;
  return {
    increment(by = 1) {
      done += by;
      const decile = Math.floor((done / Math.max(1, total)) * 10);
      if (decile > lastDecile) {
        lastDecile = decile;
        process.stderr.write(`${label}: ${done}/${total}\n`);
      }
    },
    print(text, stream = process.stdout) {
      stream.write(text);
    },
    around(write) {
      write();
    },
    stop() {},
  };
}
