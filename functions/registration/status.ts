import type {
  EndpointRecord,
  EndpointStatus,
  EndpointView,
  HeartbeatRecord,
} from "#core/protocol/index.ts";

/** Agents heartbeat every 30 s: three missed beats and the endpoint is no longer online. */
export const ONLINE_WITHIN_MS = 90_000;
/** After 10 min without a heartbeat an endpoint is offline, and an agent no longer listed. */
export const STALE_WITHIN_MS = 600_000;
/** Heartbeats older than this are deleted when read, so restarted agents do not pile up. */
export const HEARTBEAT_RETENTION_MS = 7 * 24 * 3_600_000;

export function statusOf(lastHeartbeat: number | undefined, now: number): EndpointStatus {
  if (lastHeartbeat === undefined) return "offline";
  const age = now - lastHeartbeat;
  if (age <= ONLINE_WITHIN_MS) return "online";
  if (age <= STALE_WITHIN_MS) return "stale";
  return "offline";
}

/** What `describeEndpoint` returns: the record, its status, and the agents heard from lately. */
export function endpointView(
  endpoint: EndpointRecord,
  heartbeats: readonly HeartbeatRecord[],
  now: number,
): EndpointView {
  const lastHeartbeat = heartbeats.reduce<number | undefined>(
    (newest, h) => (newest === undefined || h.at > newest ? h.at : newest),
    undefined,
  );
  // Agents that said they stopped (or stop taking tasks) do not make the endpoint online.
  const serving = heartbeats.filter((h) => h.state === undefined || h.state === "running");
  const lastServing = serving.reduce<number | undefined>(
    (newest, h) => (newest === undefined || h.at > newest ? h.at : newest),
    undefined,
  );
  const agents = heartbeats
    .filter((h) => now - h.at <= STALE_WITHIN_MS)
    .sort((a, b) => a.agentId.localeCompare(b.agentId));
  return {
    endpoint,
    status:
      lastServing === undefined && heartbeats.length > 0 ? "offline" : statusOf(lastServing, now),
    ...(lastHeartbeat === undefined ? {} : { lastHeartbeat }),
    agents,
  };
}
