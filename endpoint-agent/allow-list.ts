import { z } from "zod";
import type { FunctionRef } from "#core/protocol/index.ts";

/**
 * One entry of a site's allowedFunctions: a function name (any version the registry holds
 * runs), or `name@sha256:<hex>` (only that exact code runs, whoever registers newer versions
 * under the name).
 */
export const AllowedFunction = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}(@sha256:[0-9a-f]{64})?$/,
    "must be a function name, or name@sha256:<64 hex digits> to pin one version (see `ferry function list`)",
  );

interface Entry {
  name: string;
  sha256: string | undefined;
}

function parse(entry: string): Entry {
  const [name = "", pin] = entry.split("@sha256:");
  return { name, sha256: pin };
}

/** Why the allow-list refuses this function, or undefined when it may run. */
export function allowListRefusal(
  allowed: readonly string[] | undefined,
  fn: FunctionRef,
): string | undefined {
  if (allowed === undefined) return undefined;
  const entries = allowed.map(parse).filter((e) => e.name === fn.name);
  if (entries.length === 0) {
    return `function ${fn.name} is not in this endpoint's allowedFunctions (${allowed.join(", ") || "none"})`;
  }
  if (entries.some((e) => e.sha256 === undefined || e.sha256 === fn.sha256)) return undefined;
  const pins = entries.map((e) => `sha256:${e.sha256?.slice(0, 12)}…`).join(", ");
  return `function ${fn.name}@sha256:${fn.sha256} is not allowed here: this endpoint pins ${fn.name} to ${pins}; to run this version, add "${fn.name}@sha256:${fn.sha256}" to its allowedFunctions`;
}
