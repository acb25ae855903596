import type { ControlClient } from "#core/control/index.ts";
import { ConfigError, NotFoundError } from "#core/errors.ts";
import type { EndpointView, GroupRecord } from "#core/protocol/index.ts";

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
 * A warning on stderr for each endpoint no live agent serves, and each group none of whose
 * members has one: its tasks are kept and wait in its queue, but a user expecting a result soon
 * should know at once, not after a timeout.
 */
export async function warnIfNoAgent(
  control: Pick<ControlClient, "call">,
  endpointIds: Iterable<string>,
): Promise<void> {
  // Best effort, as a warning should be: a failed look-up warns of nothing.
  const quietly = () => undefined;
  for (const endpointId of new Set(endpointIds)) {
    const view = await control.call("describeEndpoint", { endpointId }).catch(quietly);
    if (view === undefined) {
      const found = await control.call("describeGroup", { groupId: endpointId }).catch(quietly);
      if (found) await warnIfNoMemberAgent(control, found.group).catch(quietly);
      continue;
    }
    if (view.status === "online") continue;
    const last =
      view.lastHeartbeat === undefined
        ? "no agent has ever reported"
        : `last heartbeat ${Math.round((Date.now() - view.lastHeartbeat) / 1000)} s ago`;
    process.stderr.write(
      `ferry: warning: endpoint ${view.endpoint.name} has no live agent (${view.status}, ${last}): its tasks wait in its queue until one starts (ferry endpoint start ${view.endpoint.name})\n`,
    );
  }
}

async function warnIfNoMemberAgent(control: Pick<ControlClient, "call">, group: GroupRecord) {
  const views = await memberViews(control, group.members);
  if (views.some((v) => v.status === "online")) return;
  const names = views.map((v) => v.endpoint.name);
  const what =
    names.length === 0
      ? `has no members: its tasks wait in its queue until one joins (ferry group add ${group.name} <endpoint>)`
      : `has no member with a live agent (members: ${names.join(", ")}): its tasks wait in its queue until one starts (ferry endpoint start ${names[0]})`;
  process.stderr.write(`ferry: warning: group ${group.name} ${what}\n`);
}

/** The members' views; a member deregistered meanwhile is left out. */
export async function memberViews(
  control: Pick<ControlClient, "call">,
  members: readonly string[],
): Promise<EndpointView[]> {
  const views = await Promise.all(
    members.map((endpointId) => control.call("describeEndpoint", { endpointId }).catch(notFound)),
  );
  return views.filter((v): v is EndpointView => v !== undefined);
}

/** A NotFoundError as undefined; anything else is rethrown. */
function notFound(error: unknown): undefined {
  if (error instanceof NotFoundError) return undefined;
  throw error;
}
