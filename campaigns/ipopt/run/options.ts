import { z } from "zod";
import { ConfigError } from "#core/errors.ts";
import { resolveStorePolicy, type StorePolicies } from "#core/store/index.ts";
import { SEARCH_SPACE_PATH, TRAINING_SET_PATH } from "../data/files.ts";
import { ML_BACKENDS } from "../mpnn/backend.ts";

export const TOPICS = ["simulate", "train", "infer"] as const;
export type Topic = (typeof TOPICS)[number];

const Count = z.coerce.number().int().positive();
const Backend = z.enum(["s3", "file", "none"]);

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
     * The surrogate: "gp" (Tanimoto GP, Node functions) or "mpnn" (PyTorch message passing,
     * shell functions run by --ml-python on the ML endpoint).
     * @default "gp"
     */
    mlBackend: z.enum(ML_BACKENDS).default("gp"),
    /** Python with PyTorch on the ML endpoint's host (mpnn backend). @default "python3" */
    mlPython: z.string().min(1).default("python3"),
    /** MPNN Adam learning rate (the GP fits none; then only recorded). @default 1e-3 */
    learningRate: z.coerce.number().positive().default(1e-3),
    /** MPNN training epochs (the GP trains none; then only recorded). @default 512 */
    numEpochs: Count.default(512),
    qcSpecification: z.enum(["xtb-adiabatic", "xtb-vertical"]).default("xtb-adiabatic"),
    proxystore: z.boolean().default(true),
    simulatePsBackend: Backend.default("none"),
    inferPsBackend: Backend.default("s3"),
    trainPsBackend: Backend.default("s3"),
    psThreshold: Count.default(10_000),
    psFileDir: z.string().min(1).optional(),
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
      { backend, thresholdBytes: o.psThreshold, ...(o.psFileDir ? { fileDir: o.psFileDir } : {}) },
      `--${topic}-ps-backend`,
    );
  }
  return { ...o, storePolicies };
}
