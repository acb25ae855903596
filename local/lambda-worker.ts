// Runs inside a worker thread with its own process.env, as a Lambda sandbox would: imports the
// deployed bundle once (cold start) and answers invocations over the message port.

import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";
import { z } from "zod";

const Data = z.object({ bundleFile: z.string(), exportName: z.string() });
const Invocation = z.object({ id: z.number(), event: z.unknown() });

const { bundleFile, exportName } = Data.parse(workerData);
const mod = (await import(pathToFileURL(bundleFile).href)) as Record<string, unknown>;
const handler = mod[exportName];
if (typeof handler !== "function") {
  throw new Error(`bundle ${bundleFile} does not export a function named ${exportName}`);
}

parentPort?.on("message", async (raw: unknown) => {
  const { id, event } = Invocation.parse(raw);
  try {
    const result: unknown = await handler(event, {});
    parentPort?.postMessage({ id, ok: true, result: result === undefined ? null : result });
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    parentPort?.postMessage({ id, ok: false, errorType: e.name, errorMessage: e.message });
  }
});
parentPort?.postMessage({ ready: true });
