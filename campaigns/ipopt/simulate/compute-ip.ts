import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TaskTimeoutError } from "#core/errors.ts";
import { checkRelaxation, type PerceiveOptions, type StructureChange } from "./bond-graph.ts";
import { type Geometry, smilesToGeometry } from "./geometry.ts";
import { summarizeSdf } from "./sdf.ts";
import { HARTREE_TO_EV, runXtb } from "./xtb.ts";

/** GFN2-xTB adiabatic IP (relaxed cation minus relaxed neutral), or IPEA-xTB vertical (--vip). */
export type IpMethod = "xtb-adiabatic" | "xtb-vertical";

export interface ComputeIpOptions {
  /** @default "xtb-adiabatic" */
  method?: IpMethod;
  /** OpenMP threads for xtb. @default 1 */
  threads?: number;
  /** Walltime of the whole computation; processes still running are killed. @default 600 */
  walltimeSeconds?: number;
  /** Seed of the Open Babel geometry: same SMILES and seed give the same IP. @default 1 */
  seed?: number;
  /** @default "obabel" */
  obabelPath?: string;
  /** @default "xtb" */
  xtbPath?: string;
  /** xtb parameter files (--vip fails without them). @default $XTBPATH or "/usr/share/xtb" */
  xtbParamDir?: string;
  /** Conformers compared when no C compiler can build the seeded-clock shim. @default 8 */
  fallbackConformers?: number;
}

export interface IpResult {
  smiles: string;
  method: IpMethod;
  /** Ionization potential in eV (IPEA-xTB scale for xtb-vertical, about 4.6 eV lower). */
  ipEv: number;
  energies: {
    neutralHartree: number;
    /** Relaxed cation, adiabatic only. */
    cationHartree?: number;
    /** IPEA-xTB vertical IP, vertical only. */
    vipEv?: number;
  };
  charge: number;
  unpaired: number;
  geometry: "seeded" | "best-of-n";
  seed: number;
  runtimeMs: number;
  /**
   * Set when a relaxation changed the heavy-atom bonds (Open Babel's perception of the relaxed
   * geometry against the input molecule): `ipEv` is then NaN, since the number would not be
   * this molecule's IP. Null when both geometries kept the input's bonds.
   */
  structureChange: StructureChange | null;
}

/** SMILES -> Open Babel 3D geometry -> xtb; runs in a private temp dir, removed afterwards. */
export async function computeIp(smiles: string, options: ComputeIpOptions = {}): Promise<IpResult> {
  const o = withDefaults(options);
  const started = performance.now();
  const deadline = started + o.walltimeSeconds * 1000;
  const remainingMs = () => {
    const left = deadline - performance.now();
    if (left <= 0) throw new TaskTimeoutError(`IP of ${smiles} ran past ${o.walltimeSeconds} s`);
    return left;
  };
  const env = xtbEnv(o.xtbParamDir, o.threads);
  const dir = await mkdtemp(join(tmpdir(), "ferry-ip-"));
  try {
    const stage: Stage = { dir, env, xtbPath: o.xtbPath, remainingMs };
    const neutral = await relaxNeutral(smiles, o, stage);
    const perceive = (): PerceiveOptions => ({
      obabelPath: o.obabelPath,
      dir,
      env,
      timeoutMs: remainingMs(),
    });
    const base = {
      smiles,
      method: o.method,
      charge: neutral.charge,
      unpaired: neutral.unpaired,
      geometry: neutral.strategy,
      seed: o.seed,
    };
    const neutralChange = await checkRelaxation(
      "neutral",
      neutral.inputSdf,
      neutral.relaxedSdf,
      perceive(),
    );
    if (neutralChange !== null) {
      const energies = { neutralHartree: neutral.energyHartree };
      const runtimeMs = performance.now() - started;
      return { ...base, ipEv: Number.NaN, energies, structureChange: neutralChange, runtimeMs };
    }
    const { relaxedSdf, ...ip } =
      o.method === "xtb-vertical"
        ? await verticalIp(neutral, stage)
        : await adiabaticIp(neutral, stage);
    const structureChange =
      relaxedSdf === undefined
        ? null
        : await checkRelaxation("cation", neutral.inputSdf, relaxedSdf, perceive());
    const ipEv = structureChange === null ? ip.ipEv : Number.NaN;
    return { ...base, ...ip, ipEv, structureChange, runtimeMs: performance.now() - started };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

type Resolved = Required<ComputeIpOptions>;

/** The options with their defaults filled (a default stands in for undefined only, not null). */
function withDefaults(options: ComputeIpOptions): Resolved {
  const {
    method = "xtb-adiabatic",
    threads = 1,
    walltimeSeconds = 600,
    seed = 1,
    obabelPath = "obabel",
    xtbPath = "xtb",
    xtbParamDir = process.env.XTBPATH ?? "/usr/share/xtb",
    fallbackConformers = 8,
  } = options;
  return {
    method,
    threads,
    walltimeSeconds,
    seed,
    obabelPath,
    xtbPath,
    xtbParamDir,
    fallbackConformers,
  };
}

/** The environment obabel and xtb run in: parameter files, threads, OpenMP stack. */
function xtbEnv(xtbParamDir: string, threads: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    XTBPATH: xtbParamDir,
    OMP_NUM_THREADS: String(threads),
    OMP_STACKSIZE: process.env.OMP_STACKSIZE ?? "500M",
    MKL_NUM_THREADS: String(threads),
  };
}

/** What every stage runs with; `remainingMs` throws once the walltime is spent. */
interface Stage {
  dir: string;
  env: NodeJS.ProcessEnv;
  xtbPath: string;
  remainingMs: () => number;
}

/** The relaxed neutral: its charge and spin, energy, and geometry. */
interface Neutral {
  charge: number;
  unpaired: number;
  strategy: Geometry["strategy"];
  energyHartree: number;
  /** Open Babel's geometry, whose bonds are the input molecule's. */
  inputSdf: string;
  relaxedSdf: string;
}

/** An IP stage's outcome: the IP, the energies it came from, and the relaxed cation if any. */
type IpOf = Pick<IpResult, "ipEv" | "energies"> & { relaxedSdf?: string };

/** Open Babel's geometry, then an xtb optimization of the neutral molecule. */
async function relaxNeutral(smiles: string, o: Resolved, stage: Stage): Promise<Neutral> {
  const { dir, env, xtbPath, remainingMs } = stage;
  const geometry = await smilesToGeometry(smiles, {
    dir,
    seed: o.seed,
    obabelPath: o.obabelPath,
    env,
    timeoutMs: remainingMs(),
    fallbackConformers: o.fallbackConformers,
  });
  const { charge, unpaired } = summarizeSdf(geometry.sdf);
  const neutral = await runXtb({
    xtbPath,
    env,
    dir: join(dir, "neutral"),
    geometrySdf: geometry.sdf,
    charge,
    unpaired,
    task: "opt",
    timeoutMs: remainingMs(),
  });
  return {
    charge,
    unpaired,
    strategy: geometry.strategy,
    energyHartree: neutral.totalEnergyHartree,
    inputSdf: geometry.sdf,
    relaxedSdf: neutral.optimizedSdf ?? geometry.sdf,
  };
}

/** IPEA-xTB's vertical IP at the relaxed neutral geometry. */
async function verticalIp(neutral: Neutral, stage: Stage): Promise<IpOf> {
  const vip = await runXtb({
    xtbPath: stage.xtbPath,
    env: stage.env,
    dir: join(stage.dir, "vertical"),
    geometrySdf: neutral.relaxedSdf,
    charge: neutral.charge,
    unpaired: neutral.unpaired,
    task: "vip",
    timeoutMs: stage.remainingMs(),
  });
  const vipEv = vip.vipEv ?? Number.NaN;
  return { ipEv: vipEv, energies: { neutralHartree: neutral.energyHartree, vipEv } };
}

/** Relaxed cation minus relaxed neutral; the cation relaxes from the relaxed neutral (its nearest minimum). */
async function adiabaticIp(neutral: Neutral, stage: Stage): Promise<IpOf> {
  const cation = await runXtb({
    xtbPath: stage.xtbPath,
    env: stage.env,
    dir: join(stage.dir, "cation"),
    geometrySdf: neutral.relaxedSdf,
    charge: neutral.charge + 1,
    unpaired: neutral.unpaired === 0 ? 1 : neutral.unpaired - 1,
    task: "opt",
    timeoutMs: stage.remainingMs(),
  });
  return {
    ipEv: (cation.totalEnergyHartree - neutral.energyHartree) * HARTREE_TO_EV,
    energies: { neutralHartree: neutral.energyHartree, cationHartree: cation.totalEnergyHartree },
    ...(cation.optimizedSdf === undefined ? {} : { relaxedSdf: cation.optimizedSdf }),
  };
}
