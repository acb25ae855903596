import { isSea } from "node:sea";

/**
 * The one-file agent (scripts/build-agent.ts) is one executable with no script files beside
 * it, so it cannot fork node-worker.ts: it forks itself with this word as its first argument,
 * and its main script (scripts/agent-entry.ts) then serves as the worker, not the agent.
 */
export const NODE_WORKER_ROLE = "--ferry-role=node-worker";

/** True inside the one-file agent's executable (a Node single-executable application). */
export function inOneFile(): boolean {
  return isSea();
}

/** Whether this process is the one-file agent started as a warm node worker. */
export function isNodeWorkerRole(argv: readonly string[] = process.argv): boolean {
  // A SEA's argv is [executable, executable, ...its arguments].
  return inOneFile() && argv[2] === NODE_WORKER_ROLE;
}
