import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { buildProgram } from "#cli/program.ts";
import { cliReference } from "#cli/reference.ts";

describe("docs/cli.md", () => {
  it("is the command tree's own help (regenerate with `npm run docs:cli`)", async () => {
    const committed = await readFile(new URL("../../docs/cli.md", import.meta.url), "utf8");
    const generated = cliReference(await buildProgram());
    expect(generated).toContain("## ferry endpoint jobscript");
    expect(committed, "docs/cli.md is stale: run `npm run docs:cli`").toBe(generated);
  });
});
