import type { ControlClient } from "#core/control/index.ts";
import { ProtocolError } from "#core/errors.ts";
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
