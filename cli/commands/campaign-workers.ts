import type { CampaignOptionsInput } from "#campaigns/ipopt/index.ts";
import type { ControlClient } from "#core/control/index.ts";
import { ConfigError } from "#core/errors.ts";
import { resolveEndpointId } from "../resolve.ts";

/**
 * The seed's command line may leave out --num-qc-workers (its example does): then as many
 * simulations as the QC endpoint's live agents have slots for, divided by --nodes-per-task
 * (each xtb task takes that many cores). Refuses, naming the endpoint, threads per task that
 * no agent's slots could hold, and a missing count when no agent reports its slots.
 */
export async function withQcWorkers(
  control: Pick<ControlClient, "call">,
  input: CampaignOptionsInput,
): Promise<CampaignOptionsInput> {
  if (input.qcEndpoint === undefined) return input;
  const given = input.numQcWorkers;
  const nodesPerTask = Number(input.nodesPerTask ?? 1);
  if (given !== undefined && nodesPerTask === 1) return input;
  const endpointId = await resolveEndpointId(control, input.qcEndpoint);
  const view = await control.call("describeEndpoint", { endpointId });
  const slots = view.agents.reduce((sum, agent) => sum + agent.slots.total, 0);
  const name = view.endpoint.name;
  if (slots === 0) {
    if (given !== undefined) return input;
    throw new ConfigError(`--num-qc-workers: no agent of endpoint ${name} reports its slots`, {
      hint: `start one (ferry endpoint start ${name}) or give --num-qc-workers`,
    });
  }
  const widest = Math.max(...view.agents.map((agent) => agent.slots.total));
  if (Number.isInteger(nodesPerTask) && nodesPerTask > widest) {
    throw new ConfigError(
      `--nodes-per-task ${nodesPerTask}: endpoint ${name}'s agents run at most ${widest} tasks at once, one core each`,
      { hint: `ask for at most ${widest}, or give the site more workers (site config workers)` },
    );
  }
  if (given !== undefined) return input;
  return { ...input, numQcWorkers: Math.max(1, Math.floor(slots / nodesPerTask)) };
}
