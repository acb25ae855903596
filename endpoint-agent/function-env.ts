/**
 * The environment a function runs with. Function code is untrusted: it gets what a program
 * needs to run (PATH, locale, a home and a temp dir of its own, its GPU), the documented
 * FERRY_* variables, and the variables its site config names in `passEnv`. Never the agent's
 * AWS credentials, profile or Ferry deployment: with those a function could act with the
 * endpoint's IAM powers (read every task queue, every stored object).
 */

/** Passed from the agent's environment when set: a program needs them, and they hold no secret. */
const BASELINE = ["PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TERM"] as const;

/**
 * Names `passEnv` may never list. AWS_*: credentials, profiles, endpoints (the SDKs read them
 * all). Ferry's own configuration (its deployment file and home), and the names Ferry sets
 * for each task itself.
 */
export const FORBIDDEN_PASS_ENV =
  /^(AWS_.*|FERRY_(HOME|DEPLOYMENT|STACK|TEST_DEPLOYMENT|LOCAL_BACKEND|TASK_ID|SCRATCH_DIR|ENDPOINT_ID))$/;

export interface FunctionEnvOptions {
  /** Variables the site config passes on (`passEnv`), by name. */
  passEnv: readonly string[];
  /** The function's HOME and TMPDIR: a directory of its own, so tools write nowhere else. */
  home: string;
  endpointId: string;
  gpu?: string | undefined;
  /** Per-task variables (FERRY_TASK_ID, FERRY_SCRATCH_DIR for shell functions). */
  extra?: Record<string, string>;
}

/** The function's environment, built from nothing: only what is listed here gets through. */
export function functionEnv(
  options: FunctionEnvOptions,
  source: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of [...BASELINE, ...options.passEnv]) {
    const value = source[name];
    if (value !== undefined && !FORBIDDEN_PASS_ENV.test(name)) env[name] = value;
  }
  return {
    ...env,
    HOME: options.home,
    TMPDIR: options.home,
    FERRY_ENDPOINT_ID: options.endpointId,
    ...(options.gpu === undefined ? {} : { CUDA_VISIBLE_DEVICES: options.gpu }),
    ...options.extra,
  };
}
