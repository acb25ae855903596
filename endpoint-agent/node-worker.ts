/**
 * Entry of a warm node worker (child_process.fork). Runs one task at a time: imports the
 * task's bundle (cached by the module loader, so a warm worker keeps module state like a warm
 * Lambda) and calls its default export, or its `handler` export, with the task's args.
 */
import { pathToFileURL } from "node:url";
import { FerryError } from "#core/errors.ts";
import { encodeResultHere, readArgs } from "./worker-data.ts";
import { ParentMessage, type RunReply, type RunRequest, type WorkerMessage } from "./worker-ipc.ts";

function send(message: WorkerMessage): void {
  process.send?.(message);
}

async function run(bundlePath: string, args: unknown): Promise<unknown> {
  const mod = (await import(pathToFileURL(bundlePath).href)) as Record<string, unknown>;
  const fn = typeof mod.default === "function" ? mod.default : mod.handler;
  if (typeof fn !== "function") {
    throw new TypeError("the bundle exports no function: export a default function or `handler`");
  }
  const value: unknown = await fn(args);
  // A function that returns nothing returns null, as any JSON API would.
  return value === undefined ? null : value;
}

function failure(
  taskId: string,
  error: unknown,
  stage: "args" | "function" | "result" = "function",
): RunReply {
  const e = error instanceof Error ? error : new Error(String(error));
  // Reading or storing data fails with Ferry's own errors, whose one line carries the hint.
  const oneLine = stage !== "function" && e instanceof FerryError ? e.toOneLine() : e.message;
  return {
    type: "done",
    taskId,
    ok: false,
    error: { name: e.name, message: oneLine, ...(e.stack ? { stack: e.stack } : {}) },
    stage,
  };
}

/** Read the arguments, run the function, store the result as the request says. */
async function serve(req: RunRequest): Promise<RunReply> {
  const { taskId } = req;
  let args: unknown = req.args;
  let inputsResolved: number | undefined;
  if (req.argsRef) {
    try {
      args = await readArgs(req.argsRef);
      inputsResolved = Date.now();
    } catch (error) {
      return failure(taskId, error, "args");
    }
  }
  let value: unknown;
  try {
    value = await run(req.bundlePath, args);
  } catch (error) {
    return failure(taskId, error);
  }
  const resolved = inputsResolved === undefined ? {} : { inputsResolved };
  if (!req.result) return { type: "done", taskId, ok: true, value, ...resolved };
  try {
    const encoded = await encodeResultHere(value, req.result);
    return { type: "done", taskId, ok: true, value: null, encoded, ...resolved };
  } catch (error) {
    return failure(taskId, error, "result");
  }
}

process.on("message", async (raw: unknown) => {
  const parsed = ParentMessage.safeParse(raw);
  if (!parsed.success) {
    process.stderr.write("ferry worker: ignoring a malformed message from the agent\n");
    return;
  }
  const { taskId } = parsed.data;
  const reply = await serve(parsed.data);
  try {
    send(reply);
  } catch (error) {
    // A value structured clone cannot copy (a function, a socket...).
    send(
      failure(
        taskId,
        new TypeError(
          `the function returned a value that cannot be sent back: ${(error as Error).message}`,
        ),
      ),
    );
  }
});

// Without the IPC channel (the agent died), there is nobody to serve: leave.
process.on("disconnect", () => process.exit(0));
send({ type: "ready" });
