// Lists the product's longest functions and largest files, for #16's size rules
// (functions under about 60 lines, files under about 300). Uses the TypeScript compiler's own
// parser so that a function is what tsc calls one.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The size rules: a longer function or file needs a `size:` comment saying why. */
export const MAX_FUNCTION_LINES = 60;
export const MAX_FILE_LINES = 300;
export const FOLDERS = [
  "core",
  "infra",
  "functions",
  "endpoint-agent",
  "sdk",
  "cli",
  "campaigns",
  "local",
];

export interface Sized {
  file: string;
  name: string;
  lines: number;
  /** A `size:` comment just above it says why it is long. */
  excused: boolean;
}

function nameOf(node: ts.Node, sf: ts.SourceFile): string {
  const n = (node as { name?: ts.Node }).name;
  if (n) return n.getText(sf);
  const p = node.parent;
  if (p && ts.isVariableDeclaration(p)) return p.name.getText(sf);
  if (p && ts.isPropertyAssignment(p)) return p.name.getText(sf);
  if (p && ts.isCallExpression(p)) return `${p.expression.getText(sf).slice(0, 40)}(callback)`;
  return "(anonymous)";
}

export function functionsOf(file: string, text: string): Sized[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: Sized[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && (node as { body?: ts.Node }).body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      const excused = hasSizeReason(text, node.getFullStart());
      out.push({ file, name: nameOf(node, sf), lines, excused });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The product's source files (TypeScript, and the Python that ships as shell functions). */
export function productFiles(extensions = [".ts"]): string[] {
  return FOLDERS.flatMap((folder) =>
    (readdirSync(join(ROOT, folder), { recursive: true }) as string[])
      .filter((e) => extensions.some((x) => e.endsWith(x)) && !e.includes("node_modules"))
      .map((e) => join(folder, e)),
  );
}

export function lineCount(text: string): number {
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

/** Whether the comments just above `node` (or a file's first comment) give a `size:` reason. */
export function hasSizeReason(text: string, position = 0): boolean {
  const before = ts.getLeadingCommentRanges(text, position) ?? [];
  return before.some((r) => /\bsize:/.test(text.slice(r.pos, r.end)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const top = Number(process.argv[2] ?? 15);
  const files = productFiles([".ts", ".py"]).map((f) => ({
    f,
    text: readFileSync(join(ROOT, f), "utf8"),
  }));
  const fns = files
    .flatMap(({ f, text }) => (f.endsWith(".ts") ? functionsOf(f, text) : []))
    .sort((a, b) => b.lines - a.lines);
  const sizes = files
    .map(({ f, text }) => ({ file: f, lines: lineCount(text) }))
    .sort((a, b) => b.lines - a.lines);
  console.log(
    `functions over ${MAX_FUNCTION_LINES} lines: ${fns.filter((x) => x.lines > MAX_FUNCTION_LINES).length}`,
  );
  for (const x of fns.slice(0, top))
    console.log(`  ${String(x.lines).padStart(4)}  ${x.file}  ${x.name}`);
  console.log(
    `files over ${MAX_FILE_LINES} lines: ${sizes.filter((x) => x.lines > MAX_FILE_LINES).length}`,
  );
  for (const x of sizes.slice(0, top)) console.log(`  ${String(x.lines).padStart(4)}  ${x.file}`);
}
