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
  /** Ionization potential, eV. */
  ip: number;
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
    ip: result.ipEv,
    energies: result.energies,
    method,
    runtimeMs: Math.round(result.runtimeMs),
  };
}
