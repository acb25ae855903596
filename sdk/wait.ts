import { setTimeout as sleep } from "node:timers/promises";
import type { ControlClient } from "#core/control/index.ts";
import { TransientError } from "#core/errors.ts";

/**
 * Wait until every endpoint has an online agent (a fresh heartbeat), e.g. before submitting to
 * endpoints whose agents were just started. Checks at least once, however short the timeout.
 * @param endpointIds endpoint UUIDs (resolveEndpointId turns names into them)
 * @param timeoutMs how long to wait in all
 * @param pollIntervalMs the time between checks (default 250)
 * @throws TransientError naming the endpoints still offline when the time is up
 */
export async function waitForEndpointsOnline(
  control: Pick<ControlClient, "call">,
  endpointIds: string[],
  timeoutMs: number,
  pollIntervalMs = 250,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let waiting = endpointIds;
  while (waiting.length > 0) {
    const views = await Promise.all(
      waiting.map((endpointId) => control.call("describeEndpoint", { endpointId })),
    );
    waiting = views.filter((v) => v.status !== "online").map((v) => v.endpoint.endpointId);
    if (waiting.length === 0) return;
    if (Date.now() > deadline) {
      throw new TransientError(
        `endpoints not online after ${timeoutMs} ms: ${waiting.join(", ")}`,
        {
          hint: "check that their agents are running (ferry endpoint status <id>)",
        },
      );
    }
    await sleep(pollIntervalMs);
  }
}
