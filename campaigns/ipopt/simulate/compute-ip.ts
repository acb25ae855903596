import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TaskTimeoutError } from "#core/errors.ts";
import { smilesToGeometry } from "./geometry.ts";
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
}

/** SMILES -> Open Babel 3D geometry -> xtb; runs in a private temp dir, removed afterwards. */
export async function computeIp(smiles: string, options: ComputeIpOptions = {}): Promise<IpResult> {
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
  const started = performance.now();
  const deadline = started + walltimeSeconds * 1000;
  const remainingMs = () => {
    const left = deadline - performance.now();
    if (left <= 0) throw new TaskTimeoutError(`IP of ${smiles} ran past ${walltimeSeconds} s`);
    return left;
  };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XTBPATH: xtbParamDir,
    OMP_NUM_THREADS: String(threads),
    OMP_STACKSIZE: process.env.OMP_STACKSIZE ?? "500M",
    MKL_NUM_THREADS: String(threads),
  };
  const dir = await mkdtemp(join(tmpdir(), "ferry-ip-"));
  try {
    const geometry = await smilesToGeometry(smiles, {
      dir,
      seed,
      obabelPath,
      env,
      timeoutMs: remainingMs(),
      fallbackConformers,
    });
    const { charge, unpaired } = summarizeSdf(geometry.sdf);
    const xtb = { xtbPath, env };
    const neutral = await runXtb({
      ...xtb,
      dir: join(dir, "neutral"),
      geometrySdf: geometry.sdf,
      charge,
      unpaired,
      task: "opt",
      timeoutMs: remainingMs(),
    });
    const relaxed = neutral.optimizedSdf ?? geometry.sdf;
    const base = {
      smiles,
      method,
      charge,
      unpaired,
      geometry: geometry.strategy,
      seed,
    };
    if (method === "xtb-vertical") {
      const vip = await runXtb({
        ...xtb,
        dir: join(dir, "vertical"),
        geometrySdf: relaxed,
        charge,
        unpaired,
        task: "vip",
        timeoutMs: remainingMs(),
      });
      const vipEv = vip.vipEv ?? Number.NaN;
      return {
        ...base,
        ipEv: vipEv,
        energies: { neutralHartree: neutral.totalEnergyHartree, vipEv },
        runtimeMs: performance.now() - started,
      };
    }
    // The cation relaxes from the relaxed neutral: its nearest minimum, as in an adiabatic IP.
    const cation = await runXtb({
      ...xtb,
      dir: join(dir, "cation"),
      geometrySdf: relaxed,
      charge: charge + 1,
      unpaired: unpaired === 0 ? 1 : unpaired - 1,
      task: "opt",
      timeoutMs: remainingMs(),
    });
    return {
      ...base,
      ipEv: (cation.totalEnergyHartree - neutral.totalEnergyHartree) * HARTREE_TO_EV,
      energies: {
        neutralHartree: neutral.totalEnergyHartree,
        cationHartree: cation.totalEnergyHartree,
      },
      runtimeMs: performance.now() - started,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
