import type { ControlAction } from "#core/protocol/index.ts";
import type { Caller } from "./caller.ts";
import type { RegistrationDeps, ServiceContext } from "./context.ts";
import { endpointHandlers } from "./endpoints.ts";
import { functionHandlers } from "./function-records.ts";
import { createRecordStore } from "./registry-store.ts";
import type { ActionHandlers, ActionInput } from "./service-types.ts";
import { sessionHandlers } from "./sessions.ts";

export type { RegistrationDeps } from "./context.ts";
export type { ActionInput } from "./service-types.ts";

/**
 * One handler per control action (the table dispatch routes by), each taking validated input
 * and the caller. Called without a caller, as tests and operators do, it acts for an operator.
 */
export type RegistrationService = {
  [A in ControlAction]: (
    input: ActionInput<A>,
    caller?: Caller,
  ) => ReturnType<ActionHandlers<A>[A]>;
};

export function createRegistrationService(deps: RegistrationDeps): RegistrationService {
  const ctx: ServiceContext = {
    deps,
    store: createRecordStore(deps.s3, deps.bucket),
    now: deps.now ?? Date.now,
  };
  const handlers: ActionHandlers<ControlAction> = {
    ...endpointHandlers(ctx),
    ...functionHandlers(ctx),
    ...sessionHandlers(ctx),
  };
  return withOperatorDefault(handlers);
}

function withOperatorDefault(handlers: ActionHandlers<ControlAction>): RegistrationService {
  const service: Record<string, unknown> = {};
  for (const [action, handler] of Object.entries(handlers)) {
    service[action] = (input: unknown, caller: Caller = { kind: "operator" }) =>
      (handler as (input: unknown, caller: Caller) => Promise<unknown>)(input, caller);
  }
  return service as RegistrationService;
}
