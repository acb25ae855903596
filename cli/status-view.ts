import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { ControlClient } from "#core/control/index.ts";
import type { EndpointView } from "#core/protocol/index.ts";
import type { SessionSummary, TaskState } from "#sdk/index.ts";

export interface EndpointStatusRow {
  name: string;
  endpointId: string;
  status: EndpointView["status"];
  agents: number;
  busySlots: number;
  freeSlots: number;
  /** Tasks waiting in the queue, and tasks received but not yet deleted (running). */
  queued: number | undefined;
  inFlight: number | undefined;
  lastHeartbeat: number | undefined;
}

export interface StatusSnapshot {
  at: number;
  endpoints: EndpointStatusRow[];
  session?: { sessionId: string; tasks: Record<TaskState | "running" | "queued", number> };
}

/** One picture of the federation: every endpoint with its agents and queue, and a session's tasks. */
export async function takeStatus(
  deps: { control: Pick<ControlClient, "call">; sqs: SQSClient },
  session: SessionSummary | undefined,
): Promise<StatusSnapshot> {
  const { endpoints } = await deps.control.call("listEndpoints", {});
  const rows = await Promise.all(
    endpoints.map(async (v): Promise<EndpointStatusRow> => {
      const attrs = await deps.sqs
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
        // A queue we may not read (or one just deleted) shows as unknown, not as an error.
        .catch(() => undefined);
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
    }),
  );
  const snapshot: StatusSnapshot = { at: Date.now(), endpoints: rows };
  if (session) {
    const running = new Set(endpoints.flatMap((v) => v.agents.flatMap((a) => a.runningTaskIds)));
    const tasks = { pending: 0, running: 0, queued: 0, done: 0, failed: 0, cancelled: 0 };
    for (const t of session.tasks.values()) {
      if (t.state === "pending") tasks[running.has(t.taskId) ? "running" : "queued"]++;
      else tasks[t.state]++;
    }
    snapshot.session = { sessionId: session.sessionId, tasks };
  }
  return snapshot;
}
