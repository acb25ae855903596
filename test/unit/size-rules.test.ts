// The size rules of the style guide, checked over the product's code: functions under about 60
// lines and files under about 300, except where a `size:` comment above says why. The counts
// come from TypeScript's own parser (scripts/code-size.ts, also a report: `node
// scripts/code-size.ts`); a function's lines include the closures it holds.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  functionsOf,
  hasSizeReason,
  lineCount,
  MAX_FILE_LINES,
  MAX_FUNCTION_LINES,
  productFiles,
} from "../../scripts/code-size.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const read = (file: string) => readFileSync(join(ROOT, file), "utf8");

describe("size rules", () => {
  it(`no function over ${MAX_FUNCTION_LINES} lines without a size: reason`, () => {
    const long = productFiles()
      .flatMap((file) => functionsOf(file, read(file)))
      .filter((f) => f.lines > MAX_FUNCTION_LINES && !f.excused)
      .map((f) => `${f.file} ${f.name}: ${f.lines} lines`);
    expect(long).toEqual([]);
  });

  it(`no file over ${MAX_FILE_LINES} lines without a size: reason at its top`, () => {
    const large = productFiles([".ts", ".py"])
      .map((file) => ({ file, text: read(file) }))
      .filter(({ text }) => lineCount(text) > MAX_FILE_LINES)
      .filter(({ file, text }) => !reasonAtTop(file, text))
      .map(({ file, text }) => `${file}: ${lineCount(text)} lines`);
    expect(large).toEqual([]);
  });

  it("measures what it claims: a long function fails, the same with a reason passes", () => {
    const body = Array.from({ length: 70 }, (_, i) => `  const a${i} = ${i};`).join("\n");
    const [plain] = functionsOf("x.ts", `export function f() {\n${body}\n}\n`);
    expect(plain).toMatchObject({ name: "f", lines: 72, excused: false });
    const [excused] = functionsOf("x.ts", `// size: a table\nexport function f() {\n${body}\n}\n`);
    expect(excused?.excused).toBe(true);
    const nested = functionsOf("x.ts", `const g = () => {\n  return [1].map((x) => x);\n};\n`);
    expect(nested.map((f) => [f.name, f.lines])).toEqual([
      ["g", 3],
      ["[1].map(callback)", 1],
    ]);
  });
});

/** A file's own first comment (a TS comment or a Python docstring) names its reason. */
function reasonAtTop(file: string, text: string): boolean {
  if (file.endsWith(".py")) return /^"""[\s\S]*?\bsize:[\s\S]*?"""/.test(text);
  return hasSizeReason(text, 0);
}
