import { TaskFailedError } from "#core/errors.ts";
import { computeIp, type IpMethod } from "../simulate/index.ts";

export interface SimulateArgs {
  smiles: string;
  /** @default "xtb-adiabatic" */
  method?: IpMethod;
  /** OpenMP threads for xtb. @default $OMP_NUM_THREADS or 1 */
  threads?: number;
  /** @default 600 */
  walltimeSeconds?: number;
}

export interface SimulateResult {
  smiles: string;
  /** Ionization potential, eV; null when a relaxation changed the molecule (see `rejected`). */
  ip: number | null;
  /** Why the number is not this molecule's IP, e.g. "cation relaxation broke the C3-N8 bond". */
  rejected?: string;
  energies: { neutralHartree: number; cationHartree?: number; vipEv?: number };
  method: IpMethod;
  runtimeMs: number;
}

const METHODS: readonly string[] = ["xtb-adiabatic", "xtb-vertical"];

/** Ferry function: the IP of one molecule (spawns obabel and xtb on the endpoint). */
export default async function simulate(args: SimulateArgs): Promise<SimulateResult> {
  const { smiles, method = "xtb-adiabatic", walltimeSeconds = 600 } = args;
  if (typeof smiles !== "string" || smiles === "") {
    throw new TaskFailedError("simulate needs { smiles: string }");
  }
  if (!METHODS.includes(method)) {
    throw new TaskFailedError(`unknown method ${String(method)}: use ${METHODS.join(" or ")}`);
  }
  const threads = args.threads ?? (Number(process.env.OMP_NUM_THREADS) || 1);
  const result = await computeIp(smiles, { method, threads, walltimeSeconds });
  return {
    smiles,
    ip: result.structureChange === null ? result.ipEv : null,
    ...(result.structureChange === null ? {} : { rejected: result.structureChange.reason }),
    energies: result.energies,
    method,
    runtimeMs: Math.round(result.runtimeMs),
  };
}
