import type { ControlClient } from "#core/control/index.ts";
import { NotFoundError, ProtocolError } from "#core/errors.ts";
import type { EndpointView } from "#core/protocol/index.ts";

/**
 * Every registered endpoint with its status, sorted by name, then id: listEndpoints page after
 * page (the control plane answers pages of at most 4 MB in endpoint id order; 10,000 endpoints
 * take one or two).
 * @throws ProtocolError when a page's `next` does not move past the one before
 */
export async function listAllEndpoints(
  control: Pick<ControlClient, "call">,
): Promise<EndpointView[]> {
  const all: EndpointView[] = [];
  let after: string | undefined;
  for (;;) {
    const { endpoints, next } = await control.call(
      "listEndpoints",
      after === undefined ? {} : { after },
    );
    all.push(...endpoints);
    if (next === undefined) break;
    if (after !== undefined && next <= after) {
      throw new ProtocolError(`listEndpoints: the page after ${after} ends at ${next}`);
    }
    after = next;
  }
  return all.sort(
    (a, b) =>
      a.endpoint.name.localeCompare(b.endpoint.name) ||
      a.endpoint.endpointId.localeCompare(b.endpoint.endpointId),
  );
}

/**
 * The task queue a task's `endpointId` names: an endpoint's, or a group's (a group id is not an
 * endpoint's, so that is asked second; the Executor memoizes the answer per id).
 * @throws NotFoundError when it is neither
 */
export async function taskQueueUrlOf(
  control: Pick<ControlClient, "call">,
  endpointId: string,
): Promise<string> {
  try {
    return (await control.call("describeEndpoint", { endpointId })).endpoint.queueUrl;
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    try {
      return (await control.call("describeGroup", { groupId: endpointId })).group.queueUrl;
    } catch (groupError) {
      if (groupError instanceof NotFoundError) throw error;
      throw groupError;
    }
  }
}
