import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { z } from "zod";
import { ConfigError } from "../errors.ts";

/** The local emulator backends `ferry local up` can start (see local/backends). */
export const LOCAL_BACKENDS = ["fauxqs", "compat"] as const;
export type LocalBackendName = (typeof LOCAL_BACKENDS)[number];

/**
 * Every environment variable Ferry reads, in one place. Values are validated together and a
 * missing or bad one is named in the error.
 */
const EnvSchema = z.object({
  /** Ferry's state directory (deployment file, local emulator state, spool). @default ~/.ferry */
  FERRY_HOME: z.string().min(1).optional(),
  /** Path of the deployment file (a `cdk deploy --outputs-file` JSON). @default $FERRY_HOME/deployment.json */
  FERRY_DEPLOYMENT: z.string().min(1).optional(),
  /** Stack whose outputs to use when the deployment file holds several. */
  FERRY_STACK: z.string().min(1).optional(),
  AWS_REGION: z.string().min(1).optional(),
  AWS_DEFAULT_REGION: z.string().min(1).optional(),
  /** One endpoint for every service (LocalStack, an emulator). */
  AWS_ENDPOINT_URL: z.url().optional(),
  AWS_ENDPOINT_URL_SQS: z.url().optional(),
  AWS_ENDPOINT_URL_S3: z.url().optional(),
  AWS_ENDPOINT_URL_LAMBDA: z.url().optional(),
  AWS_ACCESS_KEY_ID: z.string().optional(),
  AWS_SECRET_ACCESS_KEY: z.string().optional(),
  AWS_SESSION_TOKEN: z.string().optional(),
  /**
   * Which local emulator `ferry local up`, the test suite's global setup and the fault campaign
   * start: `fauxqs` (SQS + S3 in memory, fast) or `compat` (local-aws-sqs with lazy queue
   * creation, and s3rver: a second, independent pair that enforces more of AWS's rules).
   * A `--backend` flag wins over it. @default fauxqs
   */
  FERRY_LOCAL_BACKEND: z.enum(LOCAL_BACKENDS).optional(),
  FERRY_LOG_LEVEL: z
    .enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"])
    .optional(),
});

/** Ferry's settings from the environment, checked and with defaults filled (see loadEnv). */
export interface FerryEnv {
  /** FERRY_HOME: the deployment file, session journals, spools. @default ~/.ferry */
  home: string;
  /** FERRY_DEPLOYMENT. @default $FERRY_HOME/deployment.json */
  deploymentPath: string;
  /** FERRY_STACK: which stack of a deployment file that holds several. */
  stackName: string | undefined;
  /** AWS_REGION (or AWS_DEFAULT_REGION); unset: the deployment's region. */
  region: string | undefined;
  /** AWS_ENDPOINT_URL and its _SQS, _S3, _LAMBDA forms: AWS calls sent elsewhere. */
  endpoints: { sqs?: string; s3?: string; lambda?: string };
  /** Whether AWS keys were given in this environment (see staticCredentials). */
  hasStaticCredentials: boolean;
  /** FERRY_LOCAL_BACKEND, when set. */
  localBackend: LocalBackendName | undefined;
  /**
   * Keys given in this environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, with
   * AWS_SESSION_TOKEN): used as they are, so an environment handed to loadEnv is the one
   * whose principal calls AWS. Unset: the SDK's credential chain (profiles, roles, IMDS).
   */
  staticCredentials:
    | { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
    | undefined;
}

/**
 * Read Ferry's environment variables, the one place they are read.
 * @throws ConfigError naming the variable that is invalid
 */
export function loadEnv(env: NodeJS.ProcessEnv = process.env): FerryEnv {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      `environment variable ${String(issue?.path[0])} is invalid: ${issue?.message}`,
      { hint: "fix or unset it" },
    );
  }
  const e = parsed.data;
  const home = resolve(e.FERRY_HOME ?? join(homedir(), ".ferry"));
  const endpoints: FerryEnv["endpoints"] = {};
  const sqs = e.AWS_ENDPOINT_URL_SQS ?? e.AWS_ENDPOINT_URL;
  const s3 = e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL;
  const lambda = e.AWS_ENDPOINT_URL_LAMBDA ?? e.AWS_ENDPOINT_URL;
  if (sqs) endpoints.sqs = sqs;
  if (s3) endpoints.s3 = s3;
  if (lambda) endpoints.lambda = lambda;
  return {
    home,
    deploymentPath: resolve(e.FERRY_DEPLOYMENT ?? join(home, "deployment.json")),
    stackName: e.FERRY_STACK,
    region: e.AWS_REGION ?? e.AWS_DEFAULT_REGION,
    endpoints,
    hasStaticCredentials: Boolean(e.AWS_ACCESS_KEY_ID),
    staticCredentials:
      e.AWS_ACCESS_KEY_ID && e.AWS_SECRET_ACCESS_KEY
        ? {
            accessKeyId: e.AWS_ACCESS_KEY_ID,
            secretAccessKey: e.AWS_SECRET_ACCESS_KEY,
            ...(e.AWS_SESSION_TOKEN ? { sessionToken: e.AWS_SESSION_TOKEN } : {}),
          }
        : undefined,
    localBackend: e.FERRY_LOCAL_BACKEND,
  };
}
