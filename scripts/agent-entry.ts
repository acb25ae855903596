// Main script of the one-file agent (scripts/build-agent.ts bundles it): one executable that is
// both the agent and its warm node workers. A worker runs user code and needs none of the
// agent, so the role is decided before anything else loads (each module bundled here is only
// evaluated when imported): a worker is ready in ~0.4 s, not the agent's ~0.9 s.
import { isNodeWorkerRole } from "#agent/sea-worker.ts";

// No top-level await: the executable runs this as one CommonJS file.
void (isNodeWorkerRole() ? import("#agent/node-worker.ts") : import("#cli/agent-main.ts"));
