import { TaskFailedError } from "#core/errors.ts";
import { fixedClockShim } from "./fixed-clock.ts";
import { runProcess } from "./run-process.ts";

export interface GeometryOptions {
  dir: string;
  seed: number;
  obabelPath: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Conformers to choose from (lowest MMFF94 energy) when the seeded clock is unavailable. */
  fallbackConformers: number;
}

export interface Geometry {
  sdf: string;
  /** "seeded": one obabel geometry, reproducible; "best-of-n": lowest of n random ones. */
  strategy: "seeded" | "best-of-n";
}

/** SMILES -> 3D geometry (SDF, which keeps formal charges) with `obabel --gen3d`. */
export async function smilesToGeometry(
  smiles: string,
  options: GeometryOptions,
): Promise<Geometry> {
  const shim = await fixedClockShim();
  if (shim !== undefined) {
    const preload = [shim, options.env.LD_PRELOAD].filter(Boolean).join(":");
    const env = { ...options.env, LD_PRELOAD: preload, FERRY_OBABEL_SEED: String(options.seed) };
    const sdf = await obabel(smiles, [`-:${smiles}`, "--gen3d", "-osdf"], { ...options, env });
    return { sdf: firstMolecule(sdf), strategy: "seeded" };
  }
  const copies = `${smiles}\n`.repeat(options.fallbackConformers);
  const many = await obabel(smiles, ["-ismi", "--gen3d", "-osdf"], options, copies);
  const scored = await obabel(
    smiles,
    ["-isdf", "--energy", "--ff", "MMFF94", "-osdf"],
    options,
    many,
  );
  return { sdf: lowestEnergy(scored), strategy: "best-of-n" };
}

async function obabel(
  smiles: string,
  args: string[],
  options: GeometryOptions,
  input?: string,
): Promise<string> {
  const out = await runProcess(options.obabelPath, args, {
    cwd: options.dir,
    env: options.env,
    timeoutMs: options.timeoutMs,
    ...(input === undefined ? {} : { input }),
  });
  // A bad SMILES still exits 0: the tell is "0 molecules converted" and an empty output.
  if (
    out.code !== 0 ||
    /\b0 molecules converted/.test(out.stderr) ||
    !out.stdout.includes("M  END")
  ) {
    const warning = out.stderr
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith("=") && !line.startsWith("*"))
      .join(" ");
    throw new TaskFailedError(
      `Open Babel cannot make a 3D geometry of SMILES "${smiles}": ${warning}`,
      {
        hint: "check the SMILES",
      },
    );
  }
  return out.stdout;
}

function molecules(sdf: string): string[] {
  return sdf
    .split(/^\$\$\$\$\r?\n?/m)
    .filter((block) => block.includes("M  END"))
    .map((block) => `${block.replace(/\s*$/, "")}\n$$$$\n`);
}

function firstMolecule(sdf: string): string {
  const [first] = molecules(sdf);
  if (first === undefined) throw new TaskFailedError("Open Babel wrote no molecule");
  return first;
}

function lowestEnergy(sdf: string): string {
  let best: { block: string; energy: number } | undefined;
  for (const block of molecules(sdf)) {
    const energy = Number(/>\s*<Energy>\s*\n\s*(\S+)/.exec(block)?.[1] ?? Number.NaN);
    if (Number.isFinite(energy) && (best === undefined || energy < best.energy)) {
      best = { block, energy };
    }
  }
  return best?.block ?? firstMolecule(sdf);
}
