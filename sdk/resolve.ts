import type { ControlClient } from "#core/control/index.ts";
import { NotFoundError } from "#core/errors.ts";
import {
  type EndpointView,
  GROUP_ADDRESS_PREFIX,
  type GroupRecord,
  SafeName,
  Uuid,
} from "#core/protocol/index.ts";
import { listAllEndpoints } from "./endpoints.ts";
import { closestNames } from "./suggest.ts";

/**
 * An endpoint's UUID from its UUID or its registered name (one control call for a name; a UUID
 * is returned as it is, unchecked). `group:<name>` gives the group's id: tasks sent to it run
 * on whichever member has a free slot.
 * @throws NotFoundError for an unknown name, with the closest registered names as its hint
 */
export async function resolveEndpointId(
  control: Pick<ControlClient, "call">,
  idOrName: string,
): Promise<string> {
  if (Uuid.safeParse(idOrName).success) return idOrName;
  if (idOrName.startsWith(GROUP_ADDRESS_PREFIX)) {
    return resolveGroupId(control, idOrName.slice(GROUP_ADDRESS_PREFIX.length));
  }
  if (!SafeName.safeParse(idOrName).success) throw await unknownEndpoint(control, idOrName);
  try {
    const view = await control.call("findEndpoint", { name: idOrName });
    return view.endpoint.endpointId;
  } catch (error) {
    if (error instanceof NotFoundError) throw await unknownEndpoint(control, idOrName);
    throw error;
  }
}

/** A group's id from its name. @throws NotFoundError with the closest group names */
async function resolveGroupId(control: Pick<ControlClient, "call">, name: string) {
  try {
    if (!SafeName.safeParse(name).success) throw new NotFoundError(`no group named ${name}`);
    return (await control.call("describeGroup", { name })).group.groupId;
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    const { groups } = await control
      .call("listGroups", {})
      .catch((): { groups: GroupRecord[] } => ({ groups: [] }));
    const close = closestNames(
      name,
      groups.map((g) => g.name),
    );
    const hint = close.length
      ? `did you mean ${close.map((c) => `group:${c}`).join(" or ")}? (see \`ferry group list\`)`
      : "see `ferry group list`, or create one with `ferry group create <name> <endpoint...>`";
    return Promise.reject(new NotFoundError(`no group named ${name}`, { hint }));
  }
}

/** "no endpoint named X", with the closest registered names when there are some. */
async function unknownEndpoint(
  control: Pick<ControlClient, "call">,
  name: string,
): Promise<NotFoundError> {
  const endpoints = await listAllEndpoints(control).catch((): EndpointView[] => []);
  const close = closestNames(
    name,
    endpoints.map((e) => e.endpoint.name),
  );
  const hint = close.length
    ? `did you mean ${close.join(" or ")}? (see \`ferry endpoint list\`)`
    : "see `ferry endpoint list`, or register one with `ferry endpoint register <name>`";
  return new NotFoundError(`no endpoint named ${name}`, { hint });
}

/**
 * Check a function name is registered, before submitting many tasks that would all fail.
 * @throws NotFoundError when it is not, with the close registered names in its hint
 */
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
