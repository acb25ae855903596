import type { LocalBackendName } from "#core/config/index.ts";
import type { BackendOptions, LocalBackend } from "./backend.ts";
import { startCompatBackend } from "./compat.ts";
import { startFauxqsBackend } from "./fauxqs.ts";

export { type BackendOptions, type LocalBackend, provision } from "./backend.ts";

/** Start the named local emulator backend (not yet provisioned). */
export function startBackend(
  name: LocalBackendName,
  options: BackendOptions,
): Promise<LocalBackend> {
  return name === "compat" ? startCompatBackend(options) : startFauxqsBackend(options);
}
