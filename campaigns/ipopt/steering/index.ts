// A small Colmena-like steering layer over the Executor: slots, flags, result routing.
export { dispatchResults, type ResultProcessor } from "./dispatcher.ts";
export { Flag } from "./event.ts";
export { ResourceSlots } from "./slots.ts";
