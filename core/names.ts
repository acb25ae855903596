/**
 * Names of queues and S3 keys, shared by the Lambda, the agents and the clients. IAM policies in
 * infra/ scope access by these prefixes, so change them together.
 */
export const DEFAULT_QUEUE_PREFIX = "ferry-";

export const queueNames = {
  /** An endpoint's task queue, and a group's (`tasks-<groupId>`: ids never collide). */
  tasks: (prefix: string, endpointId: string) => `${prefix}tasks-${endpointId}`,
  results: (prefix: string, sessionId: string) => `${prefix}results-${sessionId}`,
  deadLetter: (prefix: string) => `${prefix}dlq`,
};

export const keyPrefixes = {
  registry: "registry/",
  functions: "functions/",
  store: "store/",
  /** Objects under tmp/ are removed by the bucket's lifecycle rule. */
  temporary: "tmp/",
} as const;

export const registryKeys = {
  endpoint: (endpointId: string) => `registry/endpoints/${endpointId}.json`,
  endpointsPrefix: "registry/endpoints/",
  /** Name -> endpoint id: names are unique per deployment, and found in one read. */
  endpointName: (name: string) => `registry/endpoint-names/${name}.json`,
  heartbeat: (endpointId: string, agentId: string) =>
    `registry/heartbeats/${endpointId}/${agentId}.json`,
  heartbeatsPrefix: (endpointId: string) => `registry/heartbeats/${endpointId}/`,
  /** Every agent's heartbeat, of every endpoint: listed at once by listEndpoints. */
  heartbeatsRoot: "registry/heartbeats/",
  /**
   * A cache of the records under one prefix (`endpoints`, `heartbeats`), each with the ETag it
   * was read at: a control plane that starts cold reads it in one GET instead of one per record.
   */
  index: (name: "endpoints" | "heartbeats") => `registry/index/${name}.json`,
  function: (name: string, sha256: string) => `registry/functions/${name}/${sha256}.json`,
  functionsPrefix: (name?: string) =>
    name ? `registry/functions/${name}/` : "registry/functions/",
  /** Groups by name; their task queue is `tasks-<groupId>`, beside the endpoints' queues. */
  group: (name: string) => `registry/groups/${name}.json`,
  groupsPrefix: "registry/groups/",
  groupId: (groupId: string) => `registry/group-ids/${groupId}.json`,
  /** One record per group an endpoint serves: its heartbeats list them in one request. */
  groupMember: (endpointId: string, groupId: string) =>
    `registry/group-members/${endpointId}/${groupId}.json`,
  groupMembersPrefix: (endpointId: string) => `registry/group-members/${endpointId}/`,
  session: (sessionId: string) => `registry/sessions/${sessionId}.json`,
  /**
   * One small record per cancellation, named by the time it was recorded so that agents list a
   * session's cancellations since a moment in one request (ListObjectsV2 StartAfter), never one
   * request per task. Cancelling again adds a record. Nothing deletes them yet; a lifecycle rule
   * may, but only after a cancelled task can no longer run: a task message lives up to 14 days
   * in its queue, so expiring records after 7 days would let a long-queued cancelled task run.
   */
  cancellation: (sessionId: string, taskId: string, atMs: number) =>
    `registry/cancellations/${sessionId}/${cancellationCursor(atMs)}-${taskId}.json`,
  cancellationsPrefix: (sessionId: string) => `registry/cancellations/${sessionId}/`,
  /** Results whose session queue refused them, kept for the session's client. */
  parked: (sessionId: string, taskId: string) => `registry/parked/${sessionId}/${taskId}.json`,
  parkedPrefix: (sessionId: string) => `registry/parked/${sessionId}/`,
  /** Every session's parked results; the bucket lifecycle expires them. */
  parkedRoot: "registry/parked/",
};

/**
 * A cancellation record's time as its key spells it: ms since the epoch, zero-padded so that
 * key order is time order (until 2286). Listing after it finds the records at `atMs` or later.
 */
export function cancellationCursor(atMs: number): string {
  return String(Math.max(0, Math.floor(atMs))).padStart(13, "0");
}

export const bundleKey = (sha256: string) => `functions/${sha256}.mjs`;
