// Builds the one-file agent, dist/ferry-agent-<platform>-<arch> (`npm run build:agent`): the
// endpoint agent bundled by esbuild into one CommonJS file and injected into a copy of this
// Node binary as a single-executable application (https://nodejs.org/api/single-executable-applications.html).
// A site runs it without Node installed: `ferry-agent endpoint start <uuid> --config site.yaml`.
// A build whose inputs (the bundle, this Node, the SEA settings) hash as the last one's is
// reused, so running it twice costs only the bundling.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, copyFile, mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build, type Plugin } from "esbuild";
import { ConfigError } from "#core/errors.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const workDir = join(root, "dist", "ferry-agent");
const target = `${process.platform}-${process.arch}`;
/** Where the executable is written. */
const AGENT_BINARY = join(root, "dist", `ferry-agent-${target}`);
/** Node's documented fuse: the binary looks for the blob only where this string was flipped. */
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

interface Postject {
  inject(
    file: string,
    resource: string,
    data: Buffer,
    options: { sentinelFuse: string; overwrite?: boolean },
  ): Promise<void>;
}
// postject ships no types; its API is this one function.
const postject = createRequire(import.meta.url)("postject") as Postject;

/**
 * core/aws/lazy-clients.ts loads the SDK packages from node_modules at run time, which the one
 * file has none of: endpoint-agent/sea-aws-clients.ts (same export, static imports) replaces it.
 */
const bundledAwsClients: Plugin = {
  name: "bundled-aws-clients",
  setup(b) {
    b.onResolve({ filter: /\/lazy-clients\.ts$/ }, () => ({
      path: join(root, "endpoint-agent", "sea-aws-clients.ts"),
    }));
  },
};

async function bundle(): Promise<Buffer> {
  const out = await build({
    entryPoints: [join(root, "scripts", "agent-entry.ts")],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node24",
    write: false,
    legalComments: "none",
    logLevel: "warning",
    plugins: [bundledAwsClients],
    // Modules written as ESM read import.meta; in the executable the url is the executable's,
    // and there is nothing beside it to resolve (core/ts-loader.ts never asks there).
    define: {
      "import.meta.url": "__ferryImportMetaUrl",
      "import.meta.resolve": "__ferryImportMetaResolve",
    },
    banner: {
      js: [
        'const __ferryImportMetaUrl = require("node:url").pathToFileURL(__filename).href;',
        "const __ferryImportMetaResolve = (s) => { throw new Error('the one-file agent cannot resolve ' + s); };",
      ].join("\n"),
    },
    // msgpackr's optional native speed-up: msgpackr falls back to JavaScript without it.
    external: ["msgpackr-extract"],
  });
  const code = out.outputFiles[0]?.contents;
  if (!code) throw new ConfigError("esbuild produced no bundle for the one-file agent");
  return Buffer.from(code);
}

/** Write the SEA blob for this bundle and inject it into a copy of this Node binary. */
async function makeExecutable(code: Buffer): Promise<void> {
  const main = join(workDir, "main.cjs");
  const blob = join(workDir, "sea-prep.blob");
  const config = join(workDir, "sea-config.json");
  await writeFile(main, code);
  await writeFile(config, JSON.stringify(seaConfig(main, blob)));
  await promisify(execFile)(process.execPath, ["--experimental-sea-config", config]);
  const partial = `${AGENT_BINARY}.partial`;
  await copyFile(process.execPath, partial);
  await postject.inject(partial, "NODE_SEA_BLOB", await readFile(blob), {
    sentinelFuse: SEA_FUSE,
    overwrite: true,
  });
  await chmod(partial, 0o755);
  // Renamed when complete: an interrupted build never leaves a binary that looks finished.
  await rename(partial, AGENT_BINARY);
}

function seaConfig(main: string, output: string) {
  // The code cache spares compiling the bundle at each start: `endpoint --help` took 0.32-0.35 s
  // with it, 0.36-0.60 s without (medians of 5, two runs each, a loaded 2-core machine).
  return { main, output, disableExperimentalSEAWarning: true, useCodeCache: true };
}

async function buildAgent(): Promise<void> {
  if (process.platform !== "linux") {
    throw new ConfigError(`the one-file agent is built for Linux; this is ${process.platform}`, {
      hint: "run npm run build:agent on a Linux machine of the site's architecture",
    });
  }
  const started = Date.now();
  await mkdir(workDir, { recursive: true });
  const code = await bundle();
  const inputs = createHash("sha256")
    .update(code)
    .update(process.version)
    .update(JSON.stringify(seaConfig("", "")))
    .digest("hex");
  const stampFile = join(workDir, "inputs.sha256");
  const stamp = await readFile(stampFile, "utf8").catch(() => "");
  const have = await stat(AGENT_BINARY).catch(() => undefined);
  const reused = have !== undefined && stamp === inputs;
  if (!reused) {
    await makeExecutable(code);
    await writeFile(stampFile, inputs);
  }
  const { size } = await stat(AGENT_BINARY);
  const mib = (size / 2 ** 20).toFixed(1);
  const how = reused ? "up to date, reused" : `built in ${Date.now() - started} ms`;
  console.error(
    `build-agent: ${relative(root, AGENT_BINARY)} ${mib} MiB (bundle ${(code.length / 1024).toFixed(0)} KiB, Node ${process.version}), ${how}`,
  );
}

await buildAgent();
