import { createHash } from "node:crypto";
import { access } from "node:fs/promises";
import { resolve } from "node:path";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { build, type Message } from "esbuild";
import type { ControlClient } from "#core/control/index.ts";
import { ConfigError } from "#core/errors.ts";
import { bundleKey } from "#core/names.ts";
import { type FunctionRecord, shellFunctionSha256 } from "#core/protocol/index.ts";

/**
 * Where a function is uploaded and registered; from a Connection: `{ s3: conn.aws.s3, bucket:
 * conn.deployment.bucketName, control: conn.control }`.
 */
export interface RegisterNodeFunctionDeps {
  /** Uploads the bundle; agents download it by its content hash. */
  s3: S3Client;
  /** The deployment's store bucket. */
  bucket: string;
  /** Records the version in the function registry. */
  control: Pick<ControlClient, "call">;
}

/**
 * Bundle a TypeScript/JavaScript module and its imports into one ESM file (for Node 22+); its
 * sha256 names the function version, so the same source gives the same version.
 * @throws ConfigError when the file is missing or does not build (with esbuild's first error)
 */
export async function bundleFunction(entry: string): Promise<{ code: Uint8Array; sha256: string }> {
  const file = resolve(entry);
  try {
    await access(file);
  } catch (cause) {
    throw new ConfigError(`function file not found: ${entry}`, { cause, hint: "check the path" });
  }
  const out = await build({
    entryPoints: [file],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    write: false,
    logLevel: "silent",
    // Bundles are content-addressed: keep them free of absolute paths and timestamps.
    sourcemap: false,
    legalComments: "none",
    banner: {
      js: "import { createRequire as __ferryRequire } from 'node:module'; const require = __ferryRequire(import.meta.url);",
    },
  }).catch((cause: unknown) => {
    throw new ConfigError(`cannot bundle ${entry}: ${firstBuildError(cause)}`, {
      cause,
      hint: "fix the function's source and register it again",
    });
  });
  const code = out.outputFiles[0]?.contents;
  if (!code) throw new ConfigError(`bundling ${entry} produced no output`);
  return { code, sha256: createHash("sha256").update(code).digest("hex") };
}

/** esbuild's first error as `file:line:column: text`; its message alone says only "Build failed". */
function firstBuildError(cause: unknown): string {
  const errors = (cause as { errors?: Message[] } | null)?.errors;
  const first = Array.isArray(errors) ? errors[0] : undefined;
  if (!first) return cause instanceof Error ? cause.message : String(cause);
  const where = first.location
    ? `${first.location.file}:${first.location.line}:${first.location.column + 1}: `
    : "";
  const more = errors && errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
  return `${where}${first.text}${more}`;
}

/**
 * Bundle, upload by content hash, and record the function in the registry, where it becomes
 * the name's current version (the same code again changes nothing). New code under a name
 * someone else registered is refused. Executors already running keep the version they resolved.
 * @param entry the module's path; agents call its default export (or its `handler` export)
 * @param name the registered name tasks call it by
 * @param description what it does; unset: a description already recorded is kept
 * @param bundle the entry's bundle when the caller already built it (to compare hashes)
 */
export async function registerNodeFunction(
  deps: RegisterNodeFunctionDeps,
  entry: string,
  name: string,
  description?: string,
  bundle?: { code: Uint8Array; sha256: string },
): Promise<FunctionRecord> {
  const { code, sha256 } = bundle ?? (await bundleFunction(entry));
  const key = bundleKey(sha256);
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: deps.bucket,
      Key: key,
      Body: code,
      ContentType: "text/javascript",
    }),
  );
  const { function: record } = await deps.control.call("registerFunction", {
    name,
    sha256,
    spec: { kind: "node", bundleKey: key },
    ...(description ? { description } : {}),
  });
  return record;
}

/**
 * Register a `shell` function: an argv template run without a shell (`{scratchDir}` and
 * `{taskId}` substituted), `{"args": ...}` as JSON on stdin, JSON expected on stdout. Its hash
 * covers the argv, so a changed command is a new version.
 * @param description what it does; unset: a description already recorded is kept
 */
export async function registerShellFunction(
  deps: Pick<RegisterNodeFunctionDeps, "control">,
  argv: string[],
  name: string,
  description?: string,
): Promise<FunctionRecord> {
  const { function: record } = await deps.control.call("registerFunction", {
    name,
    sha256: shellFunctionSha256(argv),
    spec: { kind: "shell", argv },
    ...(description ? { description } : {}),
  });
  return record;
}

export { shellFunctionSha256 };
