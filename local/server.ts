// The process behind `ferry local up`: runs the embedded deployment until SIGTERM/SIGINT.
// Usage: node local/server.ts --home <dir> [--backend fauxqs|compat] [--port N] [--lambda-port N]
import { rm, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { z } from "zod";
import { LOCAL_BACKENDS } from "#core/config/index.ts";
import { type LocalState, localStatePath } from "./daemon.ts";
import { startLocal } from "./stack.ts";

const { values } = parseArgs({
  options: {
    home: { type: "string" },
    backend: { type: "string", default: "fauxqs" },
    port: { type: "string", default: "0" },
    "lambda-port": { type: "string", default: "0" },
  },
});
if (!values.home) {
  console.error("local server: --home <dir> is required");
  process.exit(2);
}
const backend = z.enum(LOCAL_BACKENDS).safeParse(values.backend);
if (!backend.success) {
  console.error(`local server: --backend must be one of ${LOCAL_BACKENDS.join(", ")}`);
  process.exit(2);
}
const home = values.home;
const local = await startLocal({
  home,
  backend: backend.data,
  port: Number(values.port),
  lambdaPort: Number(values["lambda-port"]),
});
const statePath = localStatePath(home);
const state: LocalState = {
  pid: process.pid,
  backend: local.backend,
  sqsEndpointUrl: local.sqsEndpointUrl,
  s3EndpointUrl: local.s3EndpointUrl,
  lambdaEndpointUrl: local.lambdaEndpointUrl,
  deploymentPath: local.deploymentPath,
  startedAt: Date.now(),
};
await writeFile(statePath, JSON.stringify(state));
console.log(JSON.stringify({ ready: true, ...local.outputs }));

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  // Bounded: a stuck emulator must not keep `ferry local down` waiting forever.
  const timer = setTimeout(() => process.exit(1), 10_000);
  try {
    await local.stop();
    await rm(statePath, { force: true });
    await rm(local.deploymentPath, { force: true });
  } finally {
    clearTimeout(timer);
    process.exit(0);
  }
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
