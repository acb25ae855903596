import { z } from "zod";
import { ConfigError } from "#core/errors.ts";
import { resolveStorePolicy, type StorePolicies } from "#core/store/index.ts";
import { SEARCH_SPACE_PATH, TRAINING_SET_PATH } from "../data/files.ts";
import { ML_BACKENDS } from "../mpnn/backend.ts";

export const TOPICS = ["simulate", "train", "infer"] as const;
export type Topic = (typeof TOPICS)[number];

const Count = z.coerce.number().int().positive();
const Backend = z.enum(["s3", "file", "redis", "none"]);

const OptionsSchema = z
  .object({
    qcEndpoint: z.string().min(1),
    mlEndpoint: z.string().min(1),
    numQcWorkers: Count,
    moleculesPerMlTask: Count.default(10_000),
    modelCount: Count.default(8),
    trainingSet: z.string().min(1).default(TRAINING_SET_PATH),
    searchSpace: z.string().min(1).default(SEARCH_SPACE_PATH),
    /** Use only the first n molecules of the search space (a quick run); unset: all. */
    searchSpaceLimit: Count.optional(),
    searchSize: Count.default(500),
    retrainFrequency: Count.default(1),
    beta: z.coerce.number().nonnegative().default(1),
    pauseDuringUpdate: z.boolean().default(false),
    /**
     * The surrogate: "gp" (Tanimoto GP, Node functions), "mpnn" (PyTorch message passing,
     * shell functions run by --ml-python on the ML endpoint), or "auto": the MPNN when the ML
     * endpoint's record says it has a GPU, else the GP.
     * @default "auto"
     */
    mlBackend: z.enum(ML_BACKENDS).default("auto"),
    /** MPNN starting models (JSON files of ipopt-train-mpnn results); member m uses file m mod n. */
    mpnnModelFiles: z.array(z.string().min(1)).min(1).optional(),
    /** MPNN: re-initialise every member at each update (the seed's); false: fine-tune. @default true */
    retrainFromScratch: z.boolean().default(true),
    /** Share of the training set each member trains on. @default 0.8 for the GP, 1 for the MPNN (the seed's) */
    memberSubsample: z.coerce.number().gt(0).lte(1).optional(),
    /** Python with PyTorch on the ML endpoint's host (mpnn backend). @default "python3" */
    mlPython: z.string().min(1).default("python3"),
    /** MPNN Adam learning rate (the GP fits none; then only recorded). @default 1e-3 */
    learningRate: z.coerce.number().positive().default(1e-3),
    /** MPNN training epochs (the GP trains none; then only recorded). @default 512 */
    numEpochs: Count.default(512),
    /** "xtb" is the seed's name for the adiabatic IP (GFN2-xTB). @default "xtb-adiabatic" */
    qcSpecification: z
      .enum(["xtb", "xtb-adiabatic", "xtb-vertical"])
      .default("xtb-adiabatic")
      .transform((method) => (method === "xtb" ? "xtb-adiabatic" : method)),
    /** Threads of each xtb task (the seed's nodes per task; here cores on one host). @default 1 */
    nodesPerTask: Count.default(1),
    proxystore: z.boolean().default(true),
    simulatePsBackend: Backend.default("none"),
    inferPsBackend: Backend.default("s3"),
    trainPsBackend: Backend.default("s3"),
    psThreshold: Count.default(10_000),
    psFileDir: z.string().min(1).optional(),
    /** The Redis server of the redis backend (both sides reach it). @default "127.0.0.1" */
    redisHost: z.string().min(1).default("127.0.0.1"),
    /** @default 6379 */
    redisPort: Count.max(65_535).default(6379),
    policy: z.enum(["ucb", "greedy", "random"]).default("ucb"),
    seed: z.coerce.number().int().nonnegative().default(0),
    name: z
      .string()
      .regex(/^[\w.-]+$/, "letters, digits, _ . - only")
      .default("ipopt"),
    out: z.string().min(1).default("runs"),
    /** Simulations above this IP (eV) count as found in progress.jsonl. */
    thresholdEv: z.coerce.number().default(14),
    simulateWalltimeSeconds: Count.default(600),
  })
  .strict();

export type CampaignOptionsInput = z.input<typeof OptionsSchema>;
export type CampaignOptions = z.output<typeof OptionsSchema> & { storePolicies: StorePolicies };

/**
 * The campaign's options with defaults filled (the seed's, README "The IP-optimization campaign") and the
 * per-topic store policies built (--no-proxystore: everything inline).
 * @throws ConfigError naming the bad option.
 */
export function resolveCampaignOptions(input: unknown): CampaignOptions {
  refuseGlobus(input);
  const parsed = OptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`campaign option ${issue?.path.join(".")}: ${issue?.message}`, {
      cause: parsed.error,
    });
  }
  const o = parsed.data;
  const backends: Record<Topic, z.infer<typeof Backend>> = {
    simulate: o.simulatePsBackend,
    train: o.trainPsBackend,
    infer: o.inferPsBackend,
  };
  const storePolicies: Record<string, ReturnType<typeof resolveStorePolicy>> = {};
  for (const topic of TOPICS) {
    const backend = o.proxystore ? backends[topic] : "none";
    storePolicies[topic] = resolveStorePolicy(
      {
        backend,
        thresholdBytes: o.psThreshold,
        ...(o.psFileDir ? { fileDir: o.psFileDir } : {}),
        ...(backend === "redis" ? { server: `${o.redisHost}:${o.redisPort}` } : {}),
      },
      `--${topic}-ps-backend`,
    );
  }
  return { ...o, storePolicies };
}

const GLOBUS_HINT =
  "Ferry moves data across sites through its S3 bucket: use s3 (or file for a filesystem both sites mount, redis for a server both reach)";

/** The seed's globus backend, refused in one line that says what to use instead. */
function refuseGlobus(input: unknown): void {
  if (typeof input !== "object" || input === null) return;
  const fields = input as Record<string, unknown>;
  if (fields.psGlobusConfig !== undefined) {
    throw new ConfigError("--ps-globus-config: the globus store backend is not supported", {
      hint: GLOBUS_HINT,
    });
  }
  for (const topic of TOPICS) {
    if (fields[`${topic}PsBackend`] === "globus") {
      throw new ConfigError(`--${topic}-ps-backend globus is not supported`, { hint: GLOBUS_HINT });
    }
  }
}
