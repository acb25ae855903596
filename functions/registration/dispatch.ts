import { describeError, ProtocolError } from "#core/errors.ts";
import {
  type ControlErrorBody,
  ControlRequest,
  type ControlResponse,
  PROTOCOL_VERSION,
  parseJsonWith,
  parseWith,
} from "#core/protocol/index.ts";
import { type Caller, OPERATOR } from "./caller.ts";
import { toControlError } from "./errors.ts";
import {
  createRegistrationService,
  type RegistrationDeps,
  type RegistrationService,
} from "./service.ts";
import { fromUrlEvent, toUrlResponse, type UrlResponse } from "./url-event.ts";

/**
 * The Lambda's contract: any event in, a ControlResponse out (wrapped as an HTTP response for
 * a function URL event); it never throws.
 */
export type RegistrationHandler = (event: unknown) => Promise<ControlResponse | UrlResponse>;

/** The dispatch the Lambda runs, over a service built from `deps` (tests call it directly). */
export function createHandler(deps: RegistrationDeps): RegistrationHandler {
  const service = createRegistrationService(deps);
  return async (event) => {
    const call = fromUrlEvent(event);
    if (!call) return dispatch(service, event);
    if ("refused" in call) return toUrlResponse(failure(call.refused));
    return toUrlResponse(await dispatch(service, call.body, call.caller));
  };
}

/** Validate an event, run its action, and wrap the outcome in a ControlResponse. */
export async function dispatch(
  service: RegistrationService,
  event: unknown,
  caller: Caller = OPERATOR,
): Promise<ControlResponse> {
  let request: ControlRequest;
  try {
    // A client that sends its JSON as a string literal gets the same treatment.
    request =
      typeof event === "string"
        ? parseJsonWith(ControlRequest, event, "control request")
        : parseWith(ControlRequest, event, "control request");
  } catch (error) {
    if (error instanceof ProtocolError)
      return failure({ type: "BadRequest", message: error.message });
    return failure({ type: "Internal", message: describeError(error) });
  }
  try {
    return { v: PROTOCOL_VERSION, ok: true, data: await run(service, request, caller) };
  } catch (error) {
    const body = toControlError(error);
    if (body.type === "Internal") {
      // The caller sees one line; the stack goes to the function's log.
      console.error(
        JSON.stringify({
          level: "error",
          action: request.action,
          msg: body.message,
          stack: error instanceof Error ? error.stack : undefined,
        }),
      );
      body.message = `${request.action} failed: ${body.message}`;
    }
    return failure(body);
  }
}

export function failure(error: ControlErrorBody): ControlResponse {
  return { v: PROTOCOL_VERSION, ok: false, error };
}

/** The table route: an action's handler gets its fields and the caller. */
function run(
  service: RegistrationService,
  request: ControlRequest,
  caller: Caller,
): Promise<unknown> {
  const { v: _v, action, ...input } = request;
  const handler = service[action] as (input: unknown, caller: Caller) => Promise<unknown>;
  return handler(input, caller);
}
