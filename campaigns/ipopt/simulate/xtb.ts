import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TaskFailedError } from "#core/errors.ts";
import { runProcess } from "./run-process.ts";

/** CODATA: one hartree in electronvolts. */
export const HARTREE_TO_EV = 27.211386;

export interface XtbRun {
  /** Folder of its own (xtb writes restart files that would leak into the next run). */
  dir: string;
  /** SDF geometry to start from. */
  geometrySdf: string;
  charge: number;
  unpaired: number;
  task: "opt" | "vip";
  xtbPath: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
}

export interface XtbResult {
  totalEnergyHartree: number;
  /** IPEA-xTB vertical IP, only for task "vip". */
  vipEv?: number;
  /** Relaxed geometry (SDF), only for task "opt". */
  optimizedSdf?: string;
  output: string;
}

export async function runXtb(run: XtbRun): Promise<XtbResult> {
  await mkdir(run.dir, { recursive: true });
  const input = join(run.dir, "input.sdf");
  await writeFile(input, run.geometrySdf);
  const args = ["input.sdf", run.task === "opt" ? "--opt" : "--vip"];
  args.push("--chrg", String(run.charge), "--uhf", String(run.unpaired));
  const out = await runProcess(run.xtbPath, args, {
    cwd: run.dir,
    env: run.env,
    timeoutMs: run.timeoutMs,
  });
  const output = `${out.stdout}\n${out.stderr}`;
  const what = `xtb --${run.task} (charge ${run.charge}, unpaired ${run.unpaired})`;
  if (out.code !== 0 || !/normal termination of xtb/.test(out.stderr)) {
    throw new TaskFailedError(
      `${what} failed (exit ${out.code ?? out.signal}): ${lastLines(output)}`,
    );
  }
  const totalEnergyHartree = parseTotalEnergyHartree(out.stdout);
  if (totalEnergyHartree === undefined) {
    throw new TaskFailedError(`${what} printed no TOTAL ENERGY`);
  }
  if (run.task === "vip") {
    const vipEv = parseVipEv(out.stdout);
    if (vipEv === undefined) throw new TaskFailedError(`${what} printed no delta SCC IP`);
    return { totalEnergyHartree, vipEv, output };
  }
  const optimized = join(run.dir, "xtbopt.sdf");
  const optimizedSdf = await readFile(optimized, "utf8").catch(() => undefined);
  if (optimizedSdf === undefined) throw new TaskFailedError(`${what} wrote no xtbopt.sdf`);
  return { totalEnergyHartree, optimizedSdf, output };
}

/** The last `TOTAL ENERGY  <x> Eh` line (xtb prints it once per run, in the summary). */
export function parseTotalEnergyHartree(stdout: string): number | undefined {
  const matches = [...stdout.matchAll(/TOTAL ENERGY\s+(-?\d+\.\d+)\s+Eh/g)];
  const last = matches.at(-1)?.[1];
  return last === undefined ? undefined : Number(last);
}

/** `delta SCC IP (eV):  9.0724` from an `xtb --vip` run. */
export function parseVipEv(stdout: string): number | undefined {
  const match = /delta SCC IP \(eV\):\s+(-?\d+\.\d+)/.exec(stdout);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** The lines that say what went wrong, else the last few (a Fortran backtrace says little). */
function lastLines(text: string, count = 4): string {
  const lines = text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  const telling = lines.filter((line) => /error|abnormal|fail|not converge|#ERROR/i.test(line));
  return (telling.length > 0 ? telling : lines).slice(-count).join(" | ");
}
