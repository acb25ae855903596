import type { ControlAction, ControlData, ControlRequest } from "#core/protocol/index.ts";
import type { Caller } from "./caller.ts";

/** A request's fields without the envelope (`v`, `action`). */
export type ActionInput<A extends ControlAction> = Omit<
  Extract<ControlRequest, { action: A }>,
  "v" | "action"
>;

/** Handlers for some of the actions: validated input and the caller in, response data out. */
export type ActionHandlers<A extends ControlAction> = {
  [K in A]: (input: ActionInput<K>, caller: Caller) => Promise<ControlData<K>>;
};
