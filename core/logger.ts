import { type Logger, type LoggerOptions, pino } from "pino";

export type { Logger } from "pino";

/**
 * Structured JSON logs. Bindings such as endpointId and taskId are attached with
 * `logger.child({ endpointId })` so they appear on every line.
 * Level comes from FERRY_LOG_LEVEL (default info); logs go to stderr so stdout stays for results.
 */
export function createLogger(
  bindings: Record<string, unknown> = {},
  options: LoggerOptions = {},
): Logger {
  const level = process.env.FERRY_LOG_LEVEL ?? options.level ?? "info";
  return pino(
    { base: undefined, ...options, level },
    pino.destination({ fd: 2, sync: false }),
  ).child(bindings);
}
