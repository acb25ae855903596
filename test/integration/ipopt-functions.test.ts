import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { bundleFunction } from "#sdk/index.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** Bundles a function module as `ferry function register` does and imports the bundle. */
async function bundled<A, R>(entry: string): Promise<(args: A) => Promise<R>> {
  const { code } = await bundleFunction(entry);
  const dir = await mkdtemp(join(tmpdir(), "ipopt-bundle-"));
  dirs.push(dir);
  const file = join(dir, "bundle.mjs");
  await writeFile(file, code);
  const module = (await import(pathToFileURL(file).href)) as { default: (args: A) => Promise<R> };
  return module.default;
}

describe("ipopt functions bundled with esbuild", () => {
  it("train and infer load RDKit's wasm from a bundle outside the repository", async () => {
    const train = await bundled<unknown, unknown>("campaigns/ipopt/functions/train.ts");
    const infer = await bundled<unknown, { mean: number[]; std: number[] }>(
      "campaigns/ipopt/functions/infer.ts",
    );
    const trainingSet = [
      { smiles: "CCO", ip: 10.9 },
      { smiles: "CC#N", ip: 12.5 },
      { smiles: "FC(F)F", ip: 14.8 },
      { smiles: "CCN", ip: 9.8 },
    ];
    const model = JSON.parse(JSON.stringify(await train({ trainingSet, options: { members: 2 } })));
    const result = await infer({ model, smiles: ["CCCO", "FC(F)(F)F"] });
    expect(result.mean).toHaveLength(2);
    expect(result.mean[1] ?? 0).toBeGreaterThan(result.mean[0] ?? 0);
  });

  it("simulate runs obabel and xtb from a bundle", async () => {
    const simulate = await bundled<{ smiles: string }, { ip: number; method: string }>(
      "campaigns/ipopt/functions/simulate.ts",
    );
    const result = await simulate({ smiles: "C#N" });
    expect(result.method).toBe("xtb-adiabatic");
    expect(result.ip).toBeGreaterThan(12);
  });
});
