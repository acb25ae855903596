import { isDeepStrictEqual } from "node:util";
import { NotFoundError, ProtocolError } from "#core/errors.ts";
import { bundleKey, registryKeys } from "#core/names.ts";
import {
  FunctionRecord,
  type FunctionSpec,
  PROTOCOL_VERSION,
  shellFunctionSha256,
} from "#core/protocol/index.ts";
import { type Caller, ownerOf, requireOwner } from "./caller.ts";
import type { ServiceContext } from "./context.ts";
import { ConflictError } from "./errors.ts";
import type { ActionHandler, ActionTable } from "./service-types.ts";

// Functions: immutable versions by content hash, a name owned by who registered it first.
// One handler per action.

/** Register a version of a function (its spec under its content hash). */
export const registerFunction: ActionHandler<"registerFunction"> = async (
  ctx,
  { name, sha256, spec, description },
  caller,
) => {
  await checkSpec(ctx, name, sha256, spec);
  const key = registryKeys.function(name, sha256);
  const versions = await versionsOf(ctx, name);
  const existing = versions.find((v) => v.sha256 === sha256);
  if (existing && !isDeepStrictEqual(existing.spec, spec)) {
    throw new ConflictError(
      `function ${name}@${sha256.slice(0, 12)} is registered with a different spec`,
      {
        context: { functionName: name },
        hint: "the same content hash must always describe the same function",
      },
    );
  }
  // New code under a taken name only from its owner: else anyone could replace what
  // endpoints run under a name they allow.
  const owner = versions.find((v) => v.owner !== undefined)?.owner;
  if (!existing) requireOwner(owner, caller, `function ${name}`, "register new code under it");
  const record: FunctionRecord = {
    v: PROTOCOL_VERSION,
    name,
    sha256,
    spec,
    // Re-registering without a description keeps the one already recorded.
    ...((description ?? existing?.description) === undefined
      ? {}
      : { description: description ?? existing?.description }),
    registeredAt: existing?.registeredAt ?? ctx.now(),
    ...ownerFor(existing, owner, caller),
  };
  if (!isDeepStrictEqual(existing, record)) await ctx.store.put(key, record);
  return { function: record };
};

/** One version of a function, or its latest without a hash. */
export const getFunction: ActionHandler<"getFunction"> = async (ctx, { name, sha256 }) => {
  if (sha256 !== undefined) {
    const record = await ctx.store.get(registryKeys.function(name, sha256), FunctionRecord);
    if (!record) {
      throw new NotFoundError(`function ${name}@${sha256.slice(0, 12)} is not registered`, {
        context: { functionName: name },
      });
    }
    return { function: record };
  }
  const latest = latestVersions(await versionsOf(ctx, name)).get(name);
  if (!latest) {
    throw new NotFoundError(`function ${name} is not registered`, {
      context: { functionName: name },
      hint: "register it with `ferry function register`",
    });
  }
  return { function: latest };
};

/** The latest version of every function, by name. */
export const listFunctions: ActionHandler<"listFunctions"> = async (ctx) => {
  const keys = await ctx.store.list(registryKeys.functionsPrefix());
  const latest = latestVersions(await ctx.store.getMany(keys, FunctionRecord));
  const functions = [...latest.values()].sort((a, b) => a.name.localeCompare(b.name));
  return { functions };
};

/** The function actions' routing table. */
export const FUNCTION_ACTIONS: ActionTable<"registerFunction" | "getFunction" | "listFunctions"> = {
  registerFunction,
  getFunction,
  listFunctions,
};

async function versionsOf(ctx: ServiceContext, name: string): Promise<FunctionRecord[]> {
  const { store } = ctx;
  return store.getMany(await store.list(registryKeys.functionsPrefix(name)), FunctionRecord);
}

/** A version keeps its owner; a new one takes the name's, or its registrant's for a new name. */
function ownerFor(
  existing: FunctionRecord | undefined,
  nameOwner: string | undefined,
  caller: Caller,
): { owner?: string } {
  const owner = existing ? existing.owner : (nameOwner ?? ownerOf(caller).owner);
  return owner === undefined ? {} : { owner };
}

/** The hash must be the code's: a bundle's key, or the shell argv's own hash. */
async function checkSpec(
  ctx: ServiceContext,
  name: string,
  sha256: string,
  spec: FunctionSpec,
): Promise<void> {
  if (spec.kind === "shell" && shellFunctionSha256(spec.argv) !== sha256) {
    // A shell function's version is its argv: any other hash would let one name stand for
    // code nobody pinned.
    throw new ProtocolError(
      `sha256: must be ${shellFunctionSha256(spec.argv)}, the hash of this argv template (shellFunctionSha256)`,
    );
  }
  if (spec.kind !== "node") return;
  const expected = bundleKey(sha256);
  if (spec.bundleKey !== expected) {
    throw new ProtocolError(
      `spec.bundleKey: must be "${expected}" (bundles are stored by content hash)`,
    );
  }
  if (!(await ctx.store.exists(expected))) {
    throw new NotFoundError(`function bundle s3://${ctx.deps.bucket}/${expected} does not exist`, {
      context: { functionName: name },
      hint: "upload the bundle before registering (`ferry function register` does both)",
    });
  }
}

/** The most recently registered version of each function name (ties broken by hash). */
function latestVersions(records: readonly FunctionRecord[]): Map<string, FunctionRecord> {
  const latest = new Map<string, FunctionRecord>();
  for (const record of records) {
    const current = latest.get(record.name);
    if (
      !current ||
      record.registeredAt > current.registeredAt ||
      (record.registeredAt === current.registeredAt && record.sha256 > current.sha256)
    ) {
      latest.set(record.name, record);
    }
  }
  return latest;
}
