import type { ControlClient } from "#core/control/index.ts";
import { ConfigError, NotFoundError } from "#core/errors.ts";
import { SafeName, Uuid } from "#core/protocol/index.ts";
import { closestNames } from "./suggest.ts";

/** Accept an endpoint's UUID or its registered name (one control call for a name). */
export async function resolveEndpointId(
  control: Pick<ControlClient, "call">,
  idOrName: string,
): Promise<string> {
  if (Uuid.safeParse(idOrName).success) return idOrName;
  if (!SafeName.safeParse(idOrName).success) throw await unknownEndpoint(control, idOrName);
  try {
    const view = await control.call("findEndpoint", { name: idOrName });
    return view.endpoint.endpointId;
  } catch (error) {
    if (error instanceof NotFoundError) throw await unknownEndpoint(control, idOrName);
    throw error;
  }
}

/** "no endpoint named X", with the closest registered names when there are some. */
async function unknownEndpoint(
  control: Pick<ControlClient, "call">,
  name: string,
): Promise<NotFoundError> {
  const { endpoints } = await control.call("listEndpoints", {}).catch(() => ({ endpoints: [] }));
  const close = closestNames(
    name,
    endpoints.map((e) => e.endpoint.name),
  );
  const hint = close.length
    ? `did you mean ${close.join(" or ")}? (see \`ferry endpoint list\`)`
    : "see `ferry endpoint list`, or register one with `ferry endpoint register <name>`";
  return new NotFoundError(`no endpoint named ${name}`, { hint });
}

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

/** Check a function name is registered; if not, say which registered names are close. */
export async function checkFunctionName(
  control: Pick<ControlClient, "call">,
  name: string,
): Promise<void> {
  try {
    await control.call("getFunction", { name });
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    const { functions } = await control.call("listFunctions", {}).catch(() => ({ functions: [] }));
    const close = closestNames(
      name,
      functions.map((f) => f.name),
    );
    throw new NotFoundError(`function ${name} is not registered`, {
      hint: close.length
        ? `did you mean ${close.join(" or ")}? Else register it with \`ferry function register <file.ts> --name ${name}\``
        : `register it with \`ferry function register <file.ts> --name ${name}\``,
    });
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
