// The docs' shell blocks run as written: each docs/*.md page's `sh` blocks not marked skip-ci
// (those need AWS, a cluster or a site) run as one bash script from the repository root.
// The README's own blocks need a deployment and run in test/e2e/readme.test.ts.
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { codeBlocks, readmeScript } from "../helpers/readme-script.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DOCS = join(ROOT, "docs");
const run = promisify(execFile);
const pages = (await readdir(DOCS)).filter((f) => f.endsWith(".md"));

describe("docs/*.md shell blocks", () => {
  it("has pages with blocks to run, and every sh block is run or says why not", async () => {
    let runnable = 0;
    for (const page of pages) {
      const blocks = codeBlocks(await readFile(join(DOCS, page), "utf8"));
      runnable += blocks.filter((b) => b.lang === "sh" && !b.words.includes("skip-ci")).length;
    }
    expect(runnable).toBeGreaterThan(0);
  });

  it.each(pages)("%s runs", async (page) => {
    const script = readmeScript(await readFile(join(DOCS, page), "utf8"));
    const { stderr } = await run("bash", ["-c", script], { cwd: ROOT, timeout: 60_000 });
    expect(stderr).toBe("");
  });
});
