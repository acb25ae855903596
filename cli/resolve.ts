import type { ControlClient } from "#core/control/index.ts";
import { ConfigError } from "#core/errors.ts";

// Name resolution with "did you mean" lives in the SDK; the commands import it from here too.
export { checkFunctionName, resolveEndpointId } from "#sdk/resolve.ts";
export { closestNames } from "#sdk/suggest.ts";

/** Parse a JSON argument given on the command line, with an error that says which option. */
export function parseJsonOption(text: string, option: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ConfigError(
      `${option} is not valid JSON: ${text.slice(0, 80).replace(/\s+/g, " ")}`,
      {
        hint: `quote it for the shell, e.g. ${option} '{"x": 1}'`,
      },
    );
  }
}

/**
 * A warning on stderr for each endpoint no live agent serves: its tasks are kept and wait in
 * its queue, but a user expecting a result soon should know at once, not after a timeout.
 */
export async function warnIfNoAgent(
  control: Pick<ControlClient, "call">,
  endpointIds: Iterable<string>,
): Promise<void> {
  for (const endpointId of new Set(endpointIds)) {
    const view = await control.call("describeEndpoint", { endpointId }).catch(() => undefined);
    if (!view || view.status === "online") continue;
    const last =
      view.lastHeartbeat === undefined
        ? "no agent has ever reported"
        : `last heartbeat ${Math.round((Date.now() - view.lastHeartbeat) / 1000)} s ago`;
    process.stderr.write(
      `ferry: warning: endpoint ${view.endpoint.name} has no live agent (${view.status}, ${last}): its tasks wait in its queue until one starts (ferry endpoint start ${view.endpoint.name})\n`,
    );
  }
}
