// The bond-graph comparison behind simulate's structure check, on hand-written V2000 blocks.
import { describe, expect, it } from "vitest";
import { sdfToXyz } from "../../campaigns/ipopt/simulate/bond-graph.ts";
import {
  bondGraphOfSdf,
  compareBondGraphs,
  describeBondChange,
  ringCount,
} from "../../campaigns/ipopt/simulate/index.ts";

/** A V2000 molblock of `atoms` (symbols) and `bonds` (1-based pairs); coordinates are i, 0, 0. */
function molblock(atoms: string[], bonds: [number, number][]): string {
  const pad = (n: number, w = 3) => String(n).padStart(w);
  const atomLines = atoms.map(
    (s, i) =>
      `${(i * 1.5).toFixed(4).padStart(10)}    0.0000    0.0000 ${s.padEnd(3)} 0  0  0  0  0  0  0  0  0  0  0  0`,
  );
  const bondLines = bonds.map(([a, b]) => `${pad(a)}${pad(b)}  1  0  0  0  0`);
  return [
    "",
    "  test",
    "",
    `${pad(atoms.length)}${pad(bonds.length)}  0  0  0  0  0  0  0  0999 V2000`,
    ...atomLines,
    ...bondLines,
    "M  END",
    "$$$$",
  ].join("\n");
}

// Cyclopropanol with hydrogens: C1-C2-C3 ring, O4 on C1, H5 on O4.
const ring = molblock(
  ["C", "C", "C", "O", "H"],
  [
    [1, 2],
    [2, 3],
    [3, 1],
    [1, 4],
    [4, 5],
  ],
);

describe("bond graph", () => {
  it("keeps heavy-atom bonds only and counts rings", () => {
    const graph = bondGraphOfSdf(ring);
    expect(graph.symbols).toEqual(["C", "C", "C", "O", "H"]);
    expect([...graph.bonds].sort()).toEqual(["0-1", "0-2", "0-3", "1-2"]);
    expect(ringCount(graph)).toBe(1);
  });

  it("finds nothing when the bonds agree, whatever their order in the block", () => {
    const reordered = molblock(
      ["C", "C", "C", "O", "H"],
      [
        [4, 1],
        [1, 3],
        [2, 1],
        [5, 4],
        [3, 2],
      ],
    );
    expect(compareBondGraphs(bondGraphOfSdf(ring), bondGraphOfSdf(reordered))).toBeUndefined();
  });

  it("names the bond an opened ring lost, and the rings before and after", () => {
    const opened = molblock(
      ["C", "C", "C", "O", "H"],
      [
        [1, 2],
        [2, 3],
        [1, 4],
        [4, 5],
      ],
    );
    const change = compareBondGraphs(bondGraphOfSdf(ring), bondGraphOfSdf(opened));
    expect(change).toEqual({ broken: ["C1-C3"], formed: [], ringsBefore: 1, ringsAfter: 0 });
    expect(
      describeBondChange(
        "cation",
        change ?? { broken: [], formed: [], ringsBefore: 0, ringsAfter: 0 },
      ),
    ).toBe("cation relaxation broke the C1-C3 bond (rings 1 -> 0)");
  });

  it("names bonds formed and broken together", () => {
    const moved = molblock(
      ["C", "C", "C", "O", "H"],
      [
        [1, 2],
        [2, 3],
        [3, 1],
        [2, 4],
        [4, 5],
      ],
    );
    const change = compareBondGraphs(bondGraphOfSdf(ring), bondGraphOfSdf(moved));
    expect(change).toMatchObject({ broken: ["C1-O4"], formed: ["C2-O4"] });
    expect(
      describeBondChange(
        "neutral",
        change ?? { broken: [], formed: [], ringsBefore: 0, ringsAfter: 0 },
      ),
    ).toBe("neutral relaxation broke the C1-O4 bond and formed the C2-O4 bond (rings 1 -> 1)");
  });

  it("writes the coordinates as XYZ with no bonds", () => {
    const xyz = sdfToXyz(ring).split("\n");
    expect(xyz[0]).toBe("5");
    expect(xyz[2]).toBe("C 0.0000 0.0000 0.0000");
    expect(xyz[6]).toBe("H 6.0000 0.0000 0.0000");
  });

  it("rejects text that is not a V2000 molblock", () => {
    expect(() => bondGraphOfSdf("not a molecule")).toThrow(/V2000/);
  });
});
