import type { Random } from "./random.ts";

export type Element = "C" | "N" | "O" | "F";

const VALENCE: Readonly<Record<Element, number>> = { C: 4, N: 3, O: 2, F: 1 };
const ELEMENTS: readonly Element[] = ["C", "N", "O", "F"];

export interface Bond {
  a: number;
  b: number;
  order: 1 | 2 | 3;
}

export interface MoleculeGraph {
  atoms: Element[];
  bonds: Bond[];
}

export interface SamplerOptions {
  /** @default 9 */
  maxHeavyAtoms?: number;
  /** Relative weights of C, N, O, F. @default [0.62, 0.16, 0.17, 0.05] */
  elementWeights?: readonly number[];
  /** Relative weights of 0, 1, 2 ring closures. @default [0.35, 0.45, 0.2] */
  ringClosureWeights?: readonly number[];
}

/**
 * Grows a random heavy-atom graph (hydrogens implicit) that respects valences, then closes
 * rings of 3-7 atoms. Returns undefined when the draw fails a valence or strain rule.
 */
export function sampleMolecule(
  random: Random,
  options: SamplerOptions = {},
): MoleculeGraph | undefined {
  const {
    maxHeavyAtoms = 9,
    elementWeights = [0.62, 0.16, 0.17, 0.05],
    ringClosureWeights = [0.35, 0.45, 0.2],
  } = options;
  // Larger molecules are far more numerous, as in QM9: weight sizes towards the maximum.
  const sizeWeights = Array.from({ length: maxHeavyAtoms }, (_, i) => 2 ** i);
  const size = random.weighted(sizeWeights) + 1;
  const atoms: Element[] = [pick(random, elementWeights)];
  const bonds: Bond[] = [];
  const used = [0];
  const free = (i: number) => VALENCE[atoms[i] as Element] - (used[i] ?? 0);
  while (atoms.length < size) {
    const element = pick(random, elementWeights);
    const hosts = atoms
      .map((_, i) => i)
      .filter((i) => free(i) > 0 && allowedPair(atoms[i] as Element, element));
    if (hosts.length === 0) return undefined;
    const host = hosts[random.int(hosts.length)] as number;
    const maxOrder = Math.min(free(host), VALENCE[element], 3);
    const order = (random.weighted([0.75, 0.2, 0.05].slice(0, maxOrder)) + 1) as 1 | 2 | 3;
    atoms.push(element);
    used.push(order);
    used[host] = (used[host] ?? 0) + order;
    bonds.push({ a: host, b: atoms.length - 1, order });
  }
  const closures = atoms.length >= 3 ? random.weighted(ringClosureWeights) : 0;
  for (let k = 0; k < closures; k++) {
    const pairs: [number, number][] = [];
    for (let a = 0; a < atoms.length; a++) {
      for (let b = a + 1; b < atoms.length; b++) {
        if (free(a) < 1 || free(b) < 1) continue;
        if (!allowedPair(atoms[a] as Element, atoms[b] as Element)) continue;
        const distance = pathLength({ atoms, bonds }, a, b);
        if (distance >= 2 && distance <= 6) pairs.push([a, b]);
      }
    }
    if (pairs.length === 0) break;
    const [a, b] = pairs[random.int(pairs.length)] as [number, number];
    const order: 1 | 2 = free(a) >= 2 && free(b) >= 2 && random.next() < 0.15 ? 2 : 1;
    bonds.push({ a, b, order });
    used[a] = (used[a] ?? 0) + order;
    used[b] = (used[b] ?? 0) + order;
  }
  const graph = { atoms, bonds };
  return isStrainAcceptable(graph) ? graph : undefined;
}

/** Bonds we exclude as unstable: O-O, and F on anything but carbon. */
function allowedPair(x: Element, y: Element): boolean {
  if (x === "O" && y === "O") return false;
  if ((x === "F" && y !== "C") || (y === "F" && x !== "C")) return false;
  return true;
}

function pick(random: Random, weights: readonly number[]): Element {
  return ELEMENTS[random.weighted(weights)] as Element;
}

/** Bonds between a and b (breadth-first), skipping one bond; Infinity when not connected. */
function pathLength(graph: MoleculeGraph, from: number, to: number, skip?: Bond): number {
  const distance = new Map<number, number>([[from, 0]]);
  const queue = [from];
  for (let head = 0; head < queue.length; head++) {
    const atom = queue[head] as number;
    const d = distance.get(atom) ?? 0;
    for (const bond of graph.bonds) {
      if (bond === skip) continue;
      const other = bond.a === atom ? bond.b : bond.b === atom ? bond.a : -1;
      if (other < 0 || distance.has(other)) continue;
      if (other === to) return d + 1;
      distance.set(other, d + 1);
      queue.push(other);
    }
  }
  return Number.POSITIVE_INFINITY;
}

/**
 * Strain rules: no triple bond or cumulated double bonds in a ring, no double bond in a
 * three-membered ring, and no atom in two rings of three or four atoms.
 */
export function isStrainAcceptable(graph: MoleculeGraph): boolean {
  const smallestRing = graph.bonds.map((bond) => pathLength(graph, bond.a, bond.b, bond) + 1);
  const doubleBonds = new Array<number>(graph.atoms.length).fill(0);
  const smallRingBonds = new Array<number>(graph.atoms.length).fill(0);
  const ringDouble = new Array<boolean>(graph.atoms.length).fill(false);
  for (const [i, bond] of graph.bonds.entries()) {
    const ring = smallestRing[i] ?? Number.POSITIVE_INFINITY;
    const inRing = Number.isFinite(ring);
    if (inRing && bond.order === 3) return false;
    if (ring === 3 && bond.order === 2) return false;
    for (const atom of [bond.a, bond.b]) {
      if (bond.order === 2) doubleBonds[atom] = (doubleBonds[atom] ?? 0) + 1;
      if (inRing && bond.order === 2) ringDouble[atom] = true;
      if (ring <= 4) smallRingBonds[atom] = (smallRingBonds[atom] ?? 0) + 1;
    }
  }
  for (let atom = 0; atom < graph.atoms.length; atom++) {
    if ((doubleBonds[atom] ?? 0) >= 2 && ringDouble[atom]) return false;
    // An atom in one small ring has two small-ring bonds; more means fused or spiro small rings.
    if ((smallRingBonds[atom] ?? 0) > 2) return false;
  }
  return true;
}

/** V2000 molblock of the graph (no coordinates), for RDKit to sanitize and canonicalize. */
export function toMolblock(graph: MoleculeGraph): string {
  const pad = (value: number | string, width: number) => String(value).padStart(width);
  const lines = ["", "  ferry", ""];
  lines.push(
    `${pad(graph.atoms.length, 3)}${pad(graph.bonds.length, 3)}  0  0  0  0  0  0  0  0999 V2000`,
  );
  for (const element of graph.atoms) {
    lines.push(
      `    0.0000    0.0000    0.0000 ${element.padEnd(3)} 0  0  0  0  0  0  0  0  0  0  0  0`,
    );
  }
  for (const bond of graph.bonds) {
    lines.push(`${pad(bond.a + 1, 3)}${pad(bond.b + 1, 3)}${pad(bond.order, 3)}  0`);
  }
  lines.push("M  END");
  return `${lines.join("\n")}\n`;
}
