import { TaskFailedError } from "#core/errors.ts";
import { runProcess } from "./run-process.ts";

/** Heavy-atom connectivity of one molecule; atoms keep their SDF order (xtb keeps it too). */
export interface BondGraph {
  /** Element symbol of every atom, hydrogens included, in SDF order. */
  symbols: string[];
  /** Heavy-atom bonds as "i-j" (0-based, i < j); bond orders are left out. */
  bonds: Set<string>;
}

/** How a relaxed geometry's heavy-atom bonds differ from the input molecule's. */
export interface BondChange {
  /** Bonds of the input that the relaxed geometry no longer has, as "C3-O4" (1-based). */
  broken: string[];
  /** Bonds the relaxed geometry has that the input has not. */
  formed: string[];
  ringsBefore: number;
  ringsAfter: number;
}

/**
 * The bond block of the first molecule of a V2000 SDF, heavy atoms only. A few lines of parsing
 * of a fixed-column format that Open Babel writes itself: no library call is lighter.
 */
export function bondGraphOfSdf(sdf: string): BondGraph {
  const lines = sdf.split(/\r?\n/);
  const counts = lines[3] ?? "";
  if (!counts.includes("V2000")) throw new TaskFailedError("geometry is not a V2000 SDF molecule");
  const atomCount = Number.parseInt(counts.slice(0, 3), 10);
  const bondCount = Number.parseInt(counts.slice(3, 6), 10);
  const symbols = lines.slice(4, 4 + atomCount).map((line) => line.slice(31, 34).trim());
  const bonds = new Set<string>();
  for (const line of lines.slice(4 + atomCount, 4 + atomCount + bondCount)) {
    const a = Number.parseInt(line.slice(0, 3), 10) - 1;
    const b = Number.parseInt(line.slice(3, 6), 10) - 1;
    if (symbols[a] === "H" || symbols[b] === "H") continue;
    bonds.add(a < b ? `${a}-${b}` : `${b}-${a}`);
  }
  return { symbols, bonds };
}

/** The coordinates of an SDF as XYZ text: no bonds, so a reader must perceive them afresh. */
export function sdfToXyz(sdf: string): string {
  const lines = sdf.split(/\r?\n/);
  const atomCount = Number.parseInt((lines[3] ?? "").slice(0, 3), 10);
  const atoms = lines.slice(4, 4 + atomCount).map((line) => {
    const [x, y, z] = [line.slice(0, 10), line.slice(10, 20), line.slice(20, 30)].map((s) =>
      s.trim(),
    );
    return `${line.slice(31, 34).trim()} ${x} ${y} ${z}`;
  });
  return `${atomCount}\nrelaxed geometry\n${atoms.join("\n")}\n`;
}

export interface PerceiveOptions {
  obabelPath: string;
  dir: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
}

/**
 * The bonds of a relaxed geometry as Open Babel perceives them from the coordinates alone
 * (ConnectTheDots: covalent radii plus 0.45 A, then over-valent atoms lose their longest bonds).
 */
export async function perceiveBonds(sdf: string, options: PerceiveOptions): Promise<BondGraph> {
  const out = await runProcess(options.obabelPath, ["-ixyz", "-osdf"], {
    cwd: options.dir,
    env: options.env,
    timeoutMs: options.timeoutMs,
    input: sdfToXyz(sdf),
  });
  if (out.code !== 0 || !out.stdout.includes("M  END")) {
    throw new TaskFailedError(`Open Babel cannot perceive the bonds of a relaxed geometry`, {
      context: { stderr: out.stderr.trim().slice(0, 500) },
    });
  }
  return bondGraphOfSdf(out.stdout);
}

/** The bonds broken and formed between `before` and `after`; undefined when they agree. */
export function compareBondGraphs(before: BondGraph, after: BondGraph): BondChange | undefined {
  const name = (key: string) =>
    key
      .split("-")
      .map((i) => `${before.symbols[Number(i)] ?? "?"}${Number(i) + 1}`)
      .join("-");
  const broken = [...before.bonds].filter((key) => !after.bonds.has(key)).map(name);
  const formed = [...after.bonds].filter((key) => !before.bonds.has(key)).map(name);
  if (broken.length === 0 && formed.length === 0) return undefined;
  return { broken, formed, ringsBefore: ringCount(before), ringsAfter: ringCount(after) };
}

/** Independent rings of the heavy-atom graph: bonds - atoms + connected pieces. */
export function ringCount(graph: BondGraph): number {
  const heavy = graph.symbols.flatMap((symbol, i) => (symbol === "H" ? [] : [i]));
  const parent = new Map(heavy.map((i) => [i, i]));
  const root = (i: number): number => {
    const p = parent.get(i) ?? i;
    return p === i ? i : root(p);
  };
  for (const key of graph.bonds) {
    const [a, b] = key.split("-").map(Number) as [number, number];
    parent.set(root(a), root(b));
  }
  const pieces = new Set(heavy.map(root)).size;
  return graph.bonds.size - heavy.length + pieces;
}

/** "cation relaxation broke the C3-N8 bond and formed the C5-N8 bond (rings 3 -> 3)". */
export function describeBondChange(relaxation: string, change: BondChange): string {
  const list = (keys: string[]) =>
    `${keys.length === 1 ? "the" : "bonds"} ${keys.join(", ")}${keys.length === 1 ? " bond" : ""}`;
  const parts = [
    ...(change.broken.length > 0 ? [`broke ${list(change.broken)}`] : []),
    ...(change.formed.length > 0 ? [`formed ${list(change.formed)}`] : []),
  ];
  return `${relaxation} relaxation ${parts.join(" and ")} (rings ${change.ringsBefore} -> ${change.ringsAfter})`;
}

/** A relaxation that changed the molecule: its IP would be that of another molecule. */
export interface StructureChange extends BondChange {
  relaxation: "neutral" | "cation";
  /** One line, e.g. "cation relaxation broke the C3-N8 bond (rings 3 -> 2)". */
  reason: string;
}

/** Compares the bonds perceived in `relaxedSdf` with the input molecule's (`inputSdf`). */
export async function checkRelaxation(
  relaxation: StructureChange["relaxation"],
  inputSdf: string,
  relaxedSdf: string,
  options: PerceiveOptions,
): Promise<StructureChange | null> {
  const change = compareBondGraphs(
    bondGraphOfSdf(inputSdf),
    await perceiveBonds(relaxedSdf, options),
  );
  if (change === undefined) return null;
  return { relaxation, ...change, reason: describeBondChange(relaxation, change) };
}
