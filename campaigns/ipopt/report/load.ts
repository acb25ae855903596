// Reads one run directory (written by ../run/records.ts) and checks every record against a
// schema, so that the report fails with the file and line at fault rather than drawing nonsense.
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ConfigError, NotFoundError } from "#core/errors.ts";

const Ms = z.number().nonnegative();

/** Epoch ms; everything but created and sent may be missing (a task that failed early). */
export const TaskTimings = z.object({
  created: Ms,
  sent: Ms,
  received: Ms.optional(),
  inputsResolved: Ms.optional(),
  started: Ms.optional(),
  ended: Ms.optional(),
  resultSent: Ms.optional(),
  resultReceived: Ms.optional(),
  serializeMs: Ms.optional(),
  storeMs: Ms.optional(),
});
export type TaskTimings = z.infer<typeof TaskTimings>;

const TaskBase = z.object({
  taskId: z.string(),
  topic: z.string(),
  ok: z.boolean(),
  error: z.object({ type: z.string(), message: z.string() }).nullable().optional(),
  attempt: z.number().int(),
  timings: TaskTimings,
  worker: z.object({
    endpointId: z.string(),
    host: z.string(),
    pid: z.number().int(),
    gpu: z.string().optional(),
  }),
  /** Client time to fetch the value (store read and decode); runs before this field lack it. */
  valueFetchMs: Ms.optional(),
});

/** What the surrogate predicted when the campaign chose the molecule (run/state.ts). */
export const Prediction = z.object({
  meanEv: z.number(),
  stdEv: z.number().nonnegative(),
  update: z.number().int().positive(),
});

export const SimulationRecord = TaskBase.extend({
  smiles: z.string(),
  ipEv: z.number().nullable(),
  /** Null for a molecule chosen before any model scored it; missing in older runs. */
  predicted: Prediction.nullable().optional(),
  /** Why there is no IP, one line; null on success, missing in older runs. */
  failure: z.string().nullable().optional(),
});
export type SimulationRecord = z.infer<typeof SimulationRecord>;

export const TrainingRecord = TaskBase.extend({ model: z.number().int(), round: z.number() });
export type TrainingRecord = z.infer<typeof TrainingRecord>;

/** model and chunk are missing for an infer result the campaign no longer waited for. */
export const InferenceRecord = TaskBase.extend({
  model: z.number().int().optional(),
  chunk: z.number().int().optional(),
  round: z.number(),
});
export type InferenceRecord = z.infer<typeof InferenceRecord>;

/** Any of the three; what the timeline and overhead views need. */
export type TaskRecord = z.infer<typeof TaskBase>;

export const ProgressRecord = z.object({
  simulated: z.number().int(),
  failed: z.number().int(),
  searchSize: z.number().int(),
  /** Absent until the first success (JSON drops undefined). */
  bestIpEv: z.number().optional(),
  foundAboveThreshold: z.number().int(),
  elapsedMs: Ms,
  updates: z.number().int(),
});
export type ProgressRecord = z.infer<typeof ProgressRecord>;

/** The fields the report reads; the rest of run_params.json is shown as it is. */
export const RunParams = z.looseObject({
  name: z.string(),
  policy: z.string(),
  qcEndpoint: z.string(),
  mlEndpoint: z.string(),
  numQcWorkers: z.number().int(),
  searchSize: z.number().int(),
  thresholdEv: z.number(),
  endpoints: z.object({ qc: z.string(), ml: z.string() }),
});
export type RunParams = z.infer<typeof RunParams>;

export const MoleculeRow = z.object({
  index: z.coerce.number().int(),
  smiles: z.string().min(1),
  ipEv: z.coerce.number(),
});
export type MoleculeRow = z.infer<typeof MoleculeRow>;

/** training-set.json (run/records.ts): the best IP the run started from. */
export const TrainingSetSummary = z.object({
  molecules: z.number().int().nonnegative(),
  bestIpEv: z.number().nullable(),
  bestSmiles: z.string().nullable(),
});
export type TrainingSetSummary = z.infer<typeof TrainingSetSummary>;

export interface RunData {
  dir: string;
  params: RunParams;
  /** Undefined for runs written before training-set.json. */
  trainingSet: TrainingSetSummary | undefined;
  environment: Record<string, unknown> | undefined;
  progress: ProgressRecord[];
  molecules: MoleculeRow[];
  simulations: SimulationRecord[];
  training: TrainingRecord[];
  inference: InferenceRecord[];
}

/** Reads and validates `dir`; throws NotFoundError / ConfigError with a one-line reason. */
export async function loadRun(dir: string): Promise<RunData> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new NotFoundError(`run directory ${dir} does not exist`);
  const text = async (file: string, required = true): Promise<string | undefined> => {
    try {
      return await readFile(join(dir, file), "utf8");
    } catch {
      if (!required) return undefined;
      throw new NotFoundError(
        `run directory ${dir} has no ${file}: is it a ferry campaign run directory?`,
      );
    }
  };
  const progressText = await text("progress.jsonl");
  const paramsText = (await text("run_params.json")) ?? "";
  const environmentText = await text("environment.json", false);
  const trainingText = await text("training-set.json", false);
  return {
    dir,
    trainingSet:
      trainingText === undefined
        ? undefined
        : parse(
            TrainingSetSummary,
            parseJson(trainingText, dir, "training-set.json"),
            dir,
            "training-set.json",
          ),
    params: parse(RunParams, parseJson(paramsText, dir, "run_params.json"), dir, "run_params.json"),
    environment:
      environmentText === undefined
        ? undefined
        : parse(
            z.record(z.string(), z.unknown()),
            parseJson(environmentText, dir, "environment.json"),
            dir,
            "environment.json",
          ),
    progress: jsonLines(ProgressRecord, progressText ?? "", dir, "progress.jsonl"),
    molecules: csvRows(MoleculeRow, (await text("molecules.csv")) ?? "", dir, "molecules.csv"),
    simulations: jsonLines(
      SimulationRecord,
      (await text("simulation-results.jsonl")) ?? "",
      dir,
      "simulation-results.jsonl",
    ),
    training: jsonLines(
      TrainingRecord,
      (await text("training-results.jsonl", false)) ?? "",
      dir,
      "training-results.jsonl",
    ),
    inference: jsonLines(
      InferenceRecord,
      (await text("inference-results.jsonl", false)) ?? "",
      dir,
      "inference-results.jsonl",
    ),
  };
}

function jsonLines<T>(schema: z.ZodType<T>, text: string, dir: string, file: string): T[] {
  const out: T[] = [];
  // A run killed mid-write may leave a partial last line: that one alone is skipped.
  const lines = text.split("\n");
  const lastNonEmpty = lines.findLastIndex((l) => l.trim() !== "");
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (i === lastNonEmpty && !text.endsWith("\n")) return;
      throw new ConfigError(`${join(dir, file)} line ${i + 1} is not JSON`);
    }
    out.push(parse(schema, value, dir, `${file} line ${i + 1}`));
  });
  return out;
}

function csvRows<T>(schema: z.ZodType<T>, text: string, dir: string, file: string): T[] {
  const [header, ...rows] = text.split("\n");
  if (header?.trim() !== "index,smiles,ip_ev")
    throw new ConfigError(`${join(dir, file)} does not start with index,smiles,ip_ev`);
  return rows
    .map((row, i) => ({ row: row.trim(), line: i + 2 }))
    .filter(({ row }) => row !== "")
    .map(({ row, line }) => {
      const [index, smiles, ipEv] = row.split(",");
      return parse(schema, { index, smiles, ipEv }, dir, `${file} line ${line}`);
    });
}

function parseJson(text: string, dir: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ConfigError(`${join(dir, file)} is not JSON`);
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown, dir: string, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.join(".") || "(root)";
  throw new ConfigError(`${join(dir, where)}: ${path}: ${issue?.message ?? "invalid"}`);
}
