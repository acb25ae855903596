import type { ControlClient } from "#core/control/index.ts";
import { chooseMlBackend, type MlBackendName } from "../mpnn/index.ts";
import type { CampaignOptions } from "./options.ts";

/** Campaign options whose --ml-backend is settled (auto resolved). */
export type ResolvedCampaignOptions = CampaignOptions & { mlBackend: MlBackendName };

/**
 * Settles --ml-backend auto from the ML endpoint's record: the MPNN when one of its agents that
 * has not stopped reports GPUs (its site config's gpuIds), else the GP. An explicit gp or mpnn
 * is kept.
 */
export async function resolveMlBackend(
  control: Pick<ControlClient, "call">,
  mlEndpointId: string,
  options: CampaignOptions,
): Promise<ResolvedCampaignOptions> {
  if (options.mlBackend !== "auto") return { ...options, mlBackend: options.mlBackend };
  const view = await control.call("describeEndpoint", { endpointId: mlEndpointId });
  // A stopped agent's GPUs serve no task.
  const live = view.agents.filter((a) => a.state !== "stopped");
  const reported = live.flatMap((a) => (a.gpus === undefined ? [] : [a.gpus]));
  const gpus = reported.length > 0 ? Math.max(...reported) : undefined;
  return { ...options, mlBackend: chooseMlBackend("auto", gpus) };
}
