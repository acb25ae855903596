import { describeError, ProtocolError } from "#core/errors.ts";
import { PROTOCOL_VERSION } from "#core/protocol/common.ts";
import {
  type ControlErrorBody,
  ControlRequest,
  type ControlResponse,
} from "#core/protocol/control.ts";
import { parseJsonWith, parseWith } from "#core/protocol/parse.ts";
import { toControlError } from "./errors.ts";
import {
  createRegistrationService,
  type RegistrationDeps,
  type RegistrationService,
} from "./service.ts";

/** The Lambda's contract: any event in, a ControlResponse out; it never throws. */
export type RegistrationHandler = (event: unknown) => Promise<ControlResponse>;

/** The dispatch the Lambda runs, over a service built from `deps` (tests call it directly). */
export function createHandler(deps: RegistrationDeps): RegistrationHandler {
  const service = createRegistrationService(deps);
  return (event) => dispatch(service, event);
}

/** Validate an event, run its action, and wrap the outcome in a ControlResponse. */
export async function dispatch(
  service: RegistrationService,
  event: unknown,
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
    return { v: PROTOCOL_VERSION, ok: true, data: await run(service, request) };
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

function run(service: RegistrationService, request: ControlRequest): Promise<unknown> {
  switch (request.action) {
    case "registerEndpoint":
      return service.registerEndpoint(request);
    case "deregisterEndpoint":
      return service.deregisterEndpoint(request);
    case "describeEndpoint":
      return service.describeEndpoint(request);
    case "listEndpoints":
      return service.listEndpoints(request);
    case "heartbeat":
      return service.heartbeat(request);
    case "registerFunction":
      return service.registerFunction(request);
    case "getFunction":
      return service.getFunction(request);
    case "listFunctions":
      return service.listFunctions(request);
    case "openSession":
      return service.openSession(request);
    case "closeSession":
      return service.closeSession(request);
    case "cancelTasks":
      return service.cancelTasks(request);
    case "checkCancellations":
      return service.checkCancellations(request);
    case "parkResult":
      return service.parkResult(request);
    case "listParkedResults":
      return service.listParkedResults(request);
  }
}
