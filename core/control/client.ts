import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import {
  ConflictError,
  FerryError,
  NotFoundError,
  ProtocolError,
  RefusedError,
  TransientError,
} from "../errors.ts";
import { PROTOCOL_VERSION } from "../protocol/common.ts";
import {
  type ControlAction,
  type ControlData,
  type ControlErrorBody,
  ControlRequest,
  ControlResponse,
  ControlResponseData,
} from "../protocol/control.ts";
import { parseWith } from "../protocol/parse.ts";
import { postToFunctionUrl } from "./url-transport.ts";

/** The client-side error for each error type the registration function answers. */
const ERROR_CLASSES: Partial<Record<ControlErrorBody["type"], typeof FerryError>> = {
  BadRequest: ProtocolError,
  NotFound: NotFoundError,
  Forbidden: RefusedError,
  Conflict: ConflictError,
  Unavailable: TransientError,
};

type RequestOf<A extends ControlAction> = Omit<
  Extract<ControlRequest, { action: A }>,
  "v" | "action"
>;

export interface ControlClientOptions {
  lambda: LambdaClient;
  functionName: string;
  /**
   * The registration function's URL (AWS_IAM auth): calls go there, signed, so the control
   * plane knows who is asking. Unset (an older deployment file): Invoke, as an operator would.
   */
  functionUrl?: string | undefined;
}

/** Typed calls to the registration Lambda (the control plane). */
export class ControlClient {
  readonly #lambda: LambdaClient;
  readonly #functionName: string;
  readonly #functionUrl: string | undefined;

  constructor(options: ControlClientOptions) {
    this.#lambda = options.lambda;
    this.#functionName = options.functionName;
    this.#functionUrl = options.functionUrl;
  }

  async call<A extends ControlAction>(
    action: A,
    request: RequestOf<A>,
    options: { signal?: AbortSignal } = {},
  ): Promise<ControlData<A>> {
    const body = parseWith(
      ControlRequest,
      { v: PROTOCOL_VERSION, action, ...request },
      `${action} request`,
    );
    const text = this.#functionUrl
      ? await postToFunctionUrl(
          this.#lambda,
          this.#functionUrl,
          JSON.stringify(body),
          options.signal,
        )
      : await this.#invoke(action, JSON.stringify(body), options.signal);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new ProtocolError(`registration function returned non-JSON for ${action}`, { cause });
    }
    const response = parseWith(ControlResponse, json, `${action} response`);
    if (!response.ok) {
      const Err = ERROR_CLASSES[response.error.type] ?? FerryError;
      throw new Err(response.error.message);
    }
    return parseWith(
      ControlResponseData[action],
      response.data,
      `${action} response`,
    ) as ControlData<A>;
  }

  /** A direct Invoke: no caller identity reaches the function (an operator's path). */
  async #invoke(action: string, body: string, signal: AbortSignal | undefined): Promise<string> {
    let raw: Uint8Array | undefined;
    try {
      const out = await this.#lambda.send(
        new InvokeCommand({
          FunctionName: this.#functionName,
          Payload: new TextEncoder().encode(body),
        }),
        { abortSignal: signal },
      );
      if (out.FunctionError) {
        const text = out.Payload ? new TextDecoder().decode(out.Payload) : "";
        throw new FerryError(`registration function failed on ${action}: ${text.slice(0, 500)}`);
      }
      raw = out.Payload;
    } catch (cause) {
      if (cause instanceof FerryError) throw cause;
      throw new TransientError(`cannot reach the registration function (${action})`, {
        cause,
        hint: "check the deployment is up (`ferry local status`) and your AWS credentials",
      });
    }
    return raw ? new TextDecoder().decode(raw) : "";
  }
}
