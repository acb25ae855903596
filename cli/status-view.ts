import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { ControlClient } from "#core/control/index.ts";
import type { EndpointView } from "#core/protocol/index.ts";
import { listAllEndpoints, type SessionSummary, type TaskState } from "#sdk/index.ts";

export interface EndpointStatusRow {
  name: string;
  endpointId: string;
  status: EndpointView["status"];
  agents: number;
  busySlots: number;
  freeSlots: number;
  /**
   * Tasks waiting in the queue, and tasks received but not yet deleted (running); undefined
   * where the queue was not read (past `--queues`) or could not be.
   */
  queued: number | undefined;
  inFlight: number | undefined;
  lastHeartbeat: number | undefined;
}

export interface StatusSnapshot {
  at: number;
  endpoints: EndpointStatusRow[];
  /** How many endpoints' queues were read (one SQS call each), of how many endpoints. */
  queues: { read: number; of: number };
  session?: { sessionId: string; tasks: Record<TaskState | "running" | "queued", number> };
}

/**
 * Queues read by default: SQS has no call that reads many queues' depths, so 10,000 endpoints
 * would take 10,000 calls. The ones most worth reading go first (queueOrder).
 */
export const DEFAULT_QUEUE_READS = 200;
/** GetQueueAttributes calls in flight. */
const QUEUE_READ_CONCURRENCY = 32;

/**
 * One picture of the federation: every endpoint with its agents, up to `queueReads` of their
 * queues, and a session's tasks.
 */
export async function takeStatus(
  deps: { control: Pick<ControlClient, "call">; sqs: SQSClient },
  session: SessionSummary | undefined,
  queueReads = DEFAULT_QUEUE_READS,
): Promise<StatusSnapshot> {
  const endpoints = await listAllEndpoints(deps.control);
  const toRead = queueOrder(endpoints, session).slice(0, Math.max(0, queueReads));
  const depths = await readDepths(deps.sqs, toRead);
  const rows = endpoints.map((v): EndpointStatusRow => {
    const attrs = depths.get(v.endpoint.endpointId);
    const busy = v.agents.reduce((n, a) => n + a.slots.busy, 0);
    const total = v.agents.reduce((n, a) => n + a.slots.total, 0);
    return {
      name: v.endpoint.name,
      endpointId: v.endpoint.endpointId,
      status: v.status,
      agents: v.status === "offline" ? 0 : v.agents.length,
      busySlots: busy,
      freeSlots: Math.max(0, total - busy),
      queued: attrs ? Number(attrs.ApproximateNumberOfMessages ?? 0) : undefined,
      inFlight: attrs ? Number(attrs.ApproximateNumberOfMessagesNotVisible ?? 0) : undefined,
      lastHeartbeat: v.lastHeartbeat,
    };
  });
  const snapshot: StatusSnapshot = {
    at: Date.now(),
    endpoints: rows,
    queues: { read: toRead.length, of: endpoints.length },
  };
  if (session) snapshot.session = summarize(session, endpoints);
  return snapshot;
}

/**
 * Endpoints by how much their queue depth is worth a call: those this session sent tasks to,
 * then online, stale, and offline ones with agents heard from lately, then the rest; by name
 * within each.
 */
export function queueOrder(
  endpoints: readonly EndpointView[],
  session: SessionSummary | undefined,
): EndpointView[] {
  const sentTo = new Set([...(session?.tasks.values() ?? [])].map((t) => t.endpointId));
  const rank = (v: EndpointView) => {
    if (sentTo.has(v.endpoint.endpointId)) return 0;
    if (v.status === "online") return 1;
    if (v.status === "stale") return 2;
    return v.agents.length > 0 ? 3 : 4;
  };
  return endpoints
    .map((v, i) => ({ v, i, r: rank(v) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.v);
}

/** Queue attributes by endpoint id; a queue we may not read (or one just deleted) is left out. */
async function readDepths(
  sqs: SQSClient,
  endpoints: readonly EndpointView[],
): Promise<Map<string, Record<string, string>>> {
  const depths = new Map<string, Record<string, string>>();
  let next = 0;
  const worker = async () => {
    while (next < endpoints.length) {
      const v = endpoints[next++] as EndpointView;
      const attrs = await sqs
        .send(
          new GetQueueAttributesCommand({
            QueueUrl: v.endpoint.queueUrl,
            AttributeNames: [
              "ApproximateNumberOfMessages",
              "ApproximateNumberOfMessagesNotVisible",
            ],
          }),
        )
        .then((o) => o.Attributes ?? {})
        .catch(() => undefined);
      if (attrs) depths.set(v.endpoint.endpointId, attrs);
    }
  };
  await Promise.all(Array.from({ length: QUEUE_READ_CONCURRENCY }, worker));
  return depths;
}

function summarize(session: SessionSummary, endpoints: readonly EndpointView[]) {
  const running = new Set(endpoints.flatMap((v) => v.agents.flatMap((a) => a.runningTaskIds)));
  const tasks = { pending: 0, running: 0, queued: 0, done: 0, failed: 0, cancelled: 0 };
  for (const t of session.tasks.values()) {
    if (t.state === "pending") tasks[running.has(t.taskId) ? "running" : "queued"]++;
    else tasks[t.state]++;
  }
  return { sessionId: session.sessionId, tasks };
}
