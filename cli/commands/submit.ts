import { createReadStream } from "node:fs";
import { access } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { Command } from "commander";
import { z } from "zod";
import { connect } from "#core/connect.ts";
import { ConfigError } from "#core/errors.ts";
import { SafeName } from "#core/protocol/index.ts";
import { ExitCode } from "../output.ts";
import { progressBar } from "../progress.ts";
import { resolveEndpointId } from "../resolve.ts";
import { printable } from "../result-output.ts";
import { executorFor, type TaskSpec } from "../sdk/index.ts";

/** One input line of `ferry submit`; command-line options fill what a line leaves out. */
const SubmitLine = z.strictObject({
  function: SafeName.optional(),
  args: z.json().optional(),
  endpoint: z.string().min(1).optional(),
  topic: SafeName.optional(),
  walltimeSeconds: z.number().int().positive().optional(),
  maxAttempts: z.number().int().min(1).max(100).optional(),
});

async function readLines(file: string | undefined): Promise<string[]> {
  if (file && file !== "-") {
    await access(file).catch((cause: unknown) => {
      throw new ConfigError(`tasks file not found: ${file}`, {
        cause,
        hint: "check the path, or pipe JSON lines on stdin",
      });
    });
  }
  const input = file && file !== "-" ? createReadStream(file) : process.stdin;
  const lines: string[] = [];
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY }))
    lines.push(line);
  return lines;
}

export function registerSubmitCommand(program: Command): void {
  program
    .command("submit [file]")
    .description(
      'submit tasks from JSON lines ({"function","args","endpoint","topic"}; file or stdin) and print one JSON line per result',
    )
    .option("-f, --function <name>", "function for lines that name none")
    .option("-e, --endpoint <endpoint>", "endpoint (UUID or name) for lines that name none")
    .option("--topic <topic>", "topic for lines that name none", "default")
    .option("--walltime <seconds>", "walltime for lines that set none", "3600")
    .option("--timeout <seconds>", "stop waiting for results after this long", "3600")
    .option("-s, --session <id>", "add to this session instead of opening a new one")
    .option("--keep-session", "leave the session open at the end")
    .action(
      async (
        file: string | undefined,
        opts: {
          function?: string;
          endpoint?: string;
          topic: string;
          walltime: string;
          timeout: string;
          session?: string;
          keepSession?: boolean;
        },
      ) => {
        // Every line is checked before anything is sent: a typo on line 900 loses nothing.
        const raw = (await readLines(file))
          .map((text, i) => ({ text, lineNo: i + 1 }))
          .filter((l) => l.text.trim() !== "");
        const parsed = raw.map(({ text, lineNo }) => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            throw new ConfigError(`line ${lineNo} is not valid JSON`, {
              hint: "give one JSON object per line",
            });
          }
          const line = SubmitLine.safeParse(json);
          if (!line.success) {
            const issue = line.error.issues[0];
            throw new ConfigError(
              `line ${lineNo}: ${issue?.path.join(".") || "(line)"}: ${issue?.message}`,
              {
                hint: 'each line is {"function": ..., "args": ..., "endpoint": ..., "topic": ...}',
              },
            );
          }
          const fn = line.data.function ?? opts.function;
          const endpoint = line.data.endpoint ?? opts.endpoint;
          if (!fn)
            throw new ConfigError(`line ${lineNo} names no function`, {
              hint: 'add "function" or pass --function',
            });
          if (!endpoint)
            throw new ConfigError(`line ${lineNo} names no endpoint`, {
              hint: 'add "endpoint" or pass --endpoint',
            });
          return { lineNo, fn, endpoint, line: line.data };
        });
        if (parsed.length === 0)
          throw new ConfigError("no tasks given", {
            hint: "pipe JSON lines on stdin or name a file",
          });

        const conn = await connect();
        const executor = executorFor(conn);
        let timer: NodeJS.Timeout | undefined;
        try {
          const endpointIds = new Map<string, string>();
          for (const name of new Set(parsed.map((p) => p.endpoint)))
            endpointIds.set(name, await resolveEndpointId(conn.control, name));
          const session = await executor.open(opts.session);
          process.stderr.write(
            `ferry: session ${session.sessionId}: submitting ${parsed.length} task(s)\n`,
          );
          const specs: TaskSpec[] = parsed.map((p) => ({
            function: p.fn,
            args: p.line.args ?? null,
            endpointId: endpointIds.get(p.endpoint) ?? p.endpoint,
            topic: p.line.topic ?? opts.topic,
            walltimeSeconds: p.line.walltimeSeconds ?? Number(opts.walltime),
            ...(p.line.maxAttempts ? { maxAttempts: p.line.maxAttempts } : {}),
          }));
          const futures = await executor.submitMany(specs);
          const lineOf = new Map(futures.map((f, i) => [f.taskId, parsed[i]?.lineNo]));
          const bar = progressBar(futures.length, "results");
          let failed = 0;
          const all = Promise.all(
            futures.map(async (f) => {
              const printed = await printable(await f.result, (r) => executor.value(r));
              if (!printed.ok) failed++;
              process.stdout.write(
                `${JSON.stringify({ line: lineOf.get(printed.taskId), ...printed })}\n`,
              );
              bar.increment();
            }),
          );
          const outcome = await Promise.race([
            all.then(() => "done" as const),
            new Promise<"timeout">((resolve) => {
              timer = setTimeout(() => resolve("timeout"), Number(opts.timeout) * 1000);
            }),
          ]);
          bar.stop();
          if (outcome === "timeout") {
            const pending = executor.pendingTaskIds().length;
            process.stderr.write(
              `ferry: ${pending} result(s) still pending after ${opts.timeout}s\n`,
            );
            process.exitCode = ExitCode.timeout;
            return;
          }
          process.stderr.write(`ferry: ${futures.length - failed} succeeded, ${failed} failed\n`);
          if (failed > 0) process.exitCode = ExitCode.taskFailed;
        } finally {
          clearTimeout(timer);
          // The session closes only once every result is in (Executor.close checks).
          const closed = await executor
            .close({ closeSession: !opts.keepSession })
            .catch(() => undefined);
          if (closed && closed.pendingTaskIds.length > 0 && executor.sessionId) {
            process.stderr.write(
              `ferry: session ${executor.sessionId} kept open for ${closed.pendingTaskIds.length} pending result(s): collect them with \`ferry results --session ${executor.sessionId}\`\n`,
            );
          }
          conn.close();
        }
      },
    );
}
