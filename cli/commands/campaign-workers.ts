import type { CampaignOptionsInput } from "#campaigns/ipopt/index.ts";
import type { ControlClient } from "#core/control/index.ts";
import { ConfigError } from "#core/errors.ts";
import { GROUP_ADDRESS_PREFIX, type HeartbeatRecord } from "#core/protocol/index.ts";
import { memberViews, resolveEndpointId } from "../resolve.ts";

type Control = Pick<ControlClient, "call">;

/** The agents that would run the QC tasks, and how to name their endpoint (or group) to a user. */
interface QcAgents {
  label: string;
  agents: HeartbeatRecord[];
  /** What to start when no agent reports its slots. */
  startHint: string;
}

/**
 * The seed's command line may leave out --num-qc-workers (its example does): then as many
 * simulations as the QC endpoint's live agents have slots for, divided by --nodes-per-task
 * (each xtb task takes that many cores); for `group:<name>`, the live agents of all its members.
 * Refuses, naming the endpoint, threads per task that no agent's slots could hold, and a
 * missing count when no agent reports its slots.
 */
export async function withQcWorkers(
  control: Control,
  input: CampaignOptionsInput,
): Promise<CampaignOptionsInput> {
  if (input.qcEndpoint === undefined) return input;
  const given = input.numQcWorkers;
  const nodesPerTask = Number(input.nodesPerTask ?? 1);
  if (given !== undefined && nodesPerTask === 1) return input;
  const { label, agents, startHint } = await qcAgents(control, input.qcEndpoint);
  const slots = agents.reduce((sum, agent) => sum + agent.slots.total, 0);
  if (slots === 0) {
    if (given !== undefined) return input;
    throw new ConfigError(`--num-qc-workers: no agent of ${label} reports its slots`, {
      hint: `${startHint} or give --num-qc-workers`,
    });
  }
  const widest = Math.max(...agents.map((agent) => agent.slots.total));
  if (Number.isInteger(nodesPerTask) && nodesPerTask > widest) {
    throw new ConfigError(
      `--nodes-per-task ${nodesPerTask}: ${label}'s agents run at most ${widest} tasks at once, one core each`,
      { hint: `ask for at most ${widest}, or give the site more workers (site config workers)` },
    );
  }
  if (given !== undefined) return input;
  return { ...input, numQcWorkers: Math.max(1, Math.floor(slots / nodesPerTask)) };
}

/** The live agents behind an endpoint address: one endpoint's, or every group member's. */
async function qcAgents(control: Control, address: string): Promise<QcAgents> {
  if (!address.startsWith(GROUP_ADDRESS_PREFIX)) {
    const endpointId = await resolveEndpointId(control, address);
    const view = await control.call("describeEndpoint", { endpointId });
    const name = view.endpoint.name;
    return {
      label: `endpoint ${name}`,
      agents: view.agents,
      startHint: `start one (ferry endpoint start ${name})`,
    };
  }
  // Resolving first gives an unknown group's error its "did you mean".
  const groupId = await resolveEndpointId(control, address);
  const { group } = await control.call("describeGroup", { groupId });
  const views = await memberViews(control, group.members);
  const names = views.map((v) => v.endpoint.name);
  return {
    label: `group ${group.name}`,
    agents: views.flatMap((v) => v.agents),
    startHint:
      names.length > 0
        ? `start an agent of a member (ferry endpoint start ${names[0]}; members: ${names.join(", ")})`
        : `add a member (ferry group add ${group.name} <endpoint>)`,
  };
}
