import type { ControlAction, ControlData } from "#core/protocol/index.ts";
import type { Caller } from "./caller.ts";
import type { RegistrationDeps, ServiceContext } from "./context.ts";
import { createEndpointIndexes } from "./endpoint-listing.ts";
import { ENDPOINT_ACTIONS } from "./endpoints.ts";
import { FUNCTION_ACTIONS } from "./function-records.ts";
import { GROUP_ACTIONS, withGroupsAnswer } from "./groups.ts";
import { createRecordStore } from "./registry-store.ts";
import type { ActionHandler, ActionInput, ActionTable } from "./service-types.ts";
import { SESSION_ACTIONS } from "./sessions.ts";

export type { RegistrationDeps } from "./context.ts";
export type { ActionInput } from "./service-types.ts";

/**
 * One handler per control action (the table dispatch routes by), each taking validated input
 * and the caller. Called without a caller, as tests and operators do, it acts for an operator.
 */
export type RegistrationService = {
  [A in ControlAction]: (input: ActionInput<A>, caller?: Caller) => Promise<ControlData<A>>;
};

/** Every action's handler, by action: the routing table. */
const ACTIONS: ActionTable<ControlAction> = {
  ...ENDPOINT_ACTIONS,
  ...FUNCTION_ACTIONS,
  ...SESSION_ACTIONS,
  ...GROUP_ACTIONS,
  // Agents learn the groups their endpoint serves from their heartbeats' answers.
  heartbeat: withGroupsAnswer(ENDPOINT_ACTIONS.heartbeat),
};

/** The service over `deps`: each action of the table bound to one shared context. */
export function createRegistrationService(deps: RegistrationDeps): RegistrationService {
  const now = deps.now ?? Date.now;
  const ctx: ServiceContext = {
    deps,
    store: createRecordStore(deps.s3, deps.bucket),
    indexes: createEndpointIndexes(deps, now),
    now,
  };
  const service: Record<string, unknown> = {};
  for (const [action, handler] of Object.entries(ACTIONS)) {
    service[action] = (input: unknown, caller: Caller = { kind: "operator" }) =>
      (handler as ActionHandler<ControlAction>)(ctx, input as never, caller);
  }
  return service as RegistrationService;
}
