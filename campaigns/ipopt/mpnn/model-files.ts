import { readFile } from "node:fs/promises";
import { z } from "zod";
import { ConfigError } from "#core/errors.ts";
import type { MpnnModelJson } from "./types.ts";

/**
 * The model JSON of mpnn.py's train function (version 2), as --mpnn-model-files reads it: the
 * seed loads Keras .h5 files; Ferry's equivalent is the JSON a train task returns, written to
 * a file as it is. Only the fields the campaign relies on are checked; mpnn.py checks the rest.
 */
const MpnnModelSchema = z.looseObject({
  kind: z.literal("mpnn"),
  version: z.literal(2),
  config: z.looseObject({
    atomFields: z.array(z.object({ name: z.string(), size: z.number().int().positive() })),
    bondTypes: z.array(z.string()),
    hidden: z.number().int().positive(),
    steps: z.number().int().positive(),
    globalUnits: z.number().int().positive(),
    globalHeads: z.number().int().positive(),
    outputLayers: z.array(z.number().int().positive()),
    readout: z.enum(["sum", "mean"]),
    atomwise: z.boolean(),
  }),
  weights: z.record(
    z.string(),
    z.object({
      shape: z.array(z.number().int().nonnegative()),
      dtype: z.enum(["float16", "float32"]).optional(),
      data: z.string(),
    }),
  ),
});

/** The models in these files, in order. @throws ConfigError naming the file and the problem. */
export async function readMpnnModelFiles(paths: readonly string[]): Promise<MpnnModelJson[]> {
  const models: MpnnModelJson[] = [];
  for (const path of paths) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(path, "utf8"));
    } catch (error) {
      throw new ConfigError(`--mpnn-model-files ${path}: ${(error as Error).message}`, {
        cause: error,
        hint: "give JSON model files written from an ipopt-train-mpnn result",
      });
    }
    const parsed = MpnnModelSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ConfigError(
        `--mpnn-model-files ${path}: not a Ferry MPNN model (version 2): ${issue?.path.join(".")}: ${issue?.message}`,
        {
          cause: parsed.error,
          hint: "give JSON model files written from an ipopt-train-mpnn result",
        },
      );
    }
    models.push({ device: "", trainSeconds: 0, training: {}, ...parsed.data } as MpnnModelJson);
  }
  return models;
}
