import type { ControlAction, ControlData, ControlRequest } from "#core/protocol/index.ts";
import type { Caller } from "./caller.ts";
import type { ServiceContext } from "./context.ts";

/** A request's fields without the envelope (`v`, `action`). */
export type ActionInput<A extends ControlAction> = Omit<
  Extract<ControlRequest, { action: A }>,
  "v" | "action"
>;

/** One action's handler: the service's shared context, validated input and the caller. */
export type ActionHandler<A extends ControlAction> = (
  ctx: ServiceContext,
  input: ActionInput<A>,
  caller: Caller,
) => Promise<ControlData<A>>;

/** The routing table for some of the actions: each action's named handler. */
export type ActionTable<A extends ControlAction> = { [K in A]: ActionHandler<K> };
