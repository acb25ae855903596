import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleFunction, ConfigError } from "#sdk/index.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ferry-bundle-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("bundleFunction (real esbuild)", () => {
  it("a syntax error names the file, line and column and esbuild's own message", async () => {
    const file = join(dir, "broken.ts");
    await writeFile(file, "export default (a: number) => {\n  return a +;\n};\n");
    const error = await bundleFunction(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/^cannot bundle .*broken\.ts: .*broken\.ts:2:\d+: /);
    expect(message).toMatch(/Unexpected ";"/);
    expect(message).not.toMatch(/Build failed/);
  });

  it("a missing import is named too", async () => {
    const file = join(dir, "missing.ts");
    await writeFile(file, 'import x from "./nowhere.ts";\nexport default () => x;\n');
    const message = await bundleFunction(file).then(
      () => "",
      (e: unknown) => (e as Error).message,
    );
    expect(message).toMatch(/missing\.ts:1:\d+: Could not resolve "\.\/nowhere\.ts"/);
  });

  it("the same source bundles to the same sha256", async () => {
    const file = join(dir, "ok.ts");
    await writeFile(file, "export default (a: { n: number }) => a.n * 2;\n");
    const [a, b] = [await bundleFunction(file), await bundleFunction(file)];
    expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(a.sha256).toBe(b.sha256);
  });
});
