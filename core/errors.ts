/**
 * Ferry's error hierarchy. Every error a user can see derives from FerryError, carries the
 * context that locates it (taskId, endpointId, ...) and says whether retrying can help.
 */
export interface ErrorContext {
  taskId?: string;
  endpointId?: string;
  sessionId?: string;
  functionName?: string;
  [key: string]: unknown;
}

export interface FerryErrorOptions {
  cause?: unknown;
  context?: ErrorContext;
  /** What the user should do about it; printed after the message by the CLI. */
  hint?: string;
}

/** The base of every error Ferry raises; `instanceof` a subclass says what went wrong. */
export class FerryError extends Error {
  /** Whether the same operation may succeed if tried again later. */
  readonly retriable: boolean = false;
  /** Where it happened: the task, endpoint, session or function concerned. */
  readonly context: ErrorContext;
  /** What the user should do about it, when Ferry knows. */
  readonly hint: string | undefined;

  constructor(message: string, options: FerryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.context = options.context ?? {};
    this.hint = options.hint;
  }

  /** One line for a human: the message and, when known, what to do. */
  toOneLine(): string {
    return this.hint ? `${this.message}: ${this.hint}` : this.message;
  }
}

/** Missing or invalid configuration (env vars, deployment file, site config). Not retriable. */
export class ConfigError extends FerryError {}

/** A message or request that does not match the wire protocol. Not retriable. */
export class ProtocolError extends FerryError {}

/** A named thing (endpoint, function, session) does not exist. */
export class NotFoundError extends FerryError {}

/** The request contradicts what is recorded (a closed session, the same id with other content). */
export class ConflictError extends FerryError {}

/** A request refused by policy: function not allowed, hash mismatch. */
export class RefusedError extends FerryError {}

/**
 * Stored bytes that do not match their reference (size or sha256): a corrupted, truncated or
 * replaced object. Never retriable: reading again returns the same wrong bytes.
 */
export class IntegrityError extends FerryError {}

/** A failure of the network or a service that may pass: retry with backoff. */
export class TransientError extends FerryError {
  override readonly retriable: boolean = true;
}

/** A user function failed while running. */
export class TaskFailedError extends FerryError {}

/** A task ran past its walltime and was killed. */
export class TaskTimeoutError extends FerryError {}

/** Render any thrown value as one line for a terminal. */
export function describeError(error: unknown): string {
  if (error instanceof FerryError) return error.toOneLine();
  if (error instanceof Error) return error.message;
  return String(error);
}
