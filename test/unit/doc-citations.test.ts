// Every document a comment cites is one in the repository: a newcomer can open what the code
// points to. Looks for `NAME.md` and `folder/name.md` in the code of every folder.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { FOLDERS as PRODUCT_FOLDERS } from "../../scripts/code-size.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FOLDERS = [...PRODUCT_FOLDERS, "bench", "scripts", "test", "examples"];
const SELF = "doc-citations.test.ts";
const CITATION = /(?<![\w./-])((?:[\w-]+\/)*[\w-]+\.md)\b/g;

function citations(file: string, text: string): string[] {
  return [...text.matchAll(CITATION)].map((m) => `${file} -> ${m[1]}`);
}

it("cites only documents that exist in the repository", () => {
  const missing: string[] = [];
  for (const folder of FOLDERS) {
    const files = (readdirSync(join(ROOT, folder), { recursive: true }) as string[]).filter(
      (e) => /\.(ts|py|sh)$/.test(e) && !e.includes("node_modules") && !e.endsWith(SELF),
    );
    for (const entry of files) {
      const file = join(folder, entry);
      for (const cited of citations(file, readFileSync(join(ROOT, file), "utf8"))) {
        const doc = cited.split(" -> ")[1] ?? "";
        const found = [doc, join(folder, doc), join("docs", doc)].some((p) =>
          existsSync(join(ROOT, p)),
        );
        if (!found) missing.push(cited);
      }
    }
  }
  expect(missing).toEqual([]);
});

it("finds a citation it is shown", () => {
  expect(citations("x.ts", "// see DESIGN.md and docs/protocol.md.")).toEqual([
    "x.ts -> DESIGN.md",
    "x.ts -> docs/protocol.md",
  ]);
});
