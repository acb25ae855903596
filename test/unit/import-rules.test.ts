// The folders' dependency rules, checked over every import in the product's code:
// core <- (functions, endpoint-agent, sdk, infra) <- (cli, campaigns, local) <- (test, bench,
// scripts), and a folder's subfolder is reached through its index. docs/architecture.md
// draws the same picture.
import { readdir, readFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Alias (as in package.json "imports") -> its folder. */
const ALIAS: Record<string, string> = {
  core: "core",
  infra: "infra",
  functions: "functions",
  agent: "endpoint-agent",
  sdk: "sdk",
  cli: "cli",
  local: "local",
  campaigns: "campaigns",
};
/** What each product folder may import besides itself. */
const MAY_IMPORT: Record<string, string[]> = {
  core: [],
  infra: ["core"],
  functions: ["core"],
  "endpoint-agent": ["core"],
  sdk: ["core"],
  campaigns: ["core", "sdk"],
  local: ["core", "infra"],
  cli: ["core", "sdk", "endpoint-agent", "campaigns", "local"],
};
/**
 * Imports allowed past an index, each with its reason. `ferry local` and `ferry demo` import
 * these local/ files alone: local/index.ts also loads aws-cdk-lib, a second of start-up.
 */
const PAST_INDEX_ALLOWED = new Set([
  "cli/commands/demo.ts -> #local/agent-process.ts",
  "cli/commands/demo.ts -> #local/stack.ts",
  "cli/commands/local.ts -> #local/daemon.ts",
  // `ferry endpoint list` and name look-ups: the SDK's index loads the executor, the stores
  // and msgpackr (83 modules) that listing and resolving endpoints never use.
  "cli/commands/endpoint.ts -> #sdk/endpoints.ts",
  "cli/resolve.ts -> #sdk/resolve.ts",
  "cli/resolve.ts -> #sdk/suggest.ts",
]);

async function sources(folder: string): Promise<string[]> {
  const entries = await readdir(join(ROOT, folder), { recursive: true });
  return entries.filter((e) => e.endsWith(".ts")).map((e) => join(folder, e));
}

interface Edge {
  file: string;
  spec: string;
  /** The folder the import lands in, and the path inside it. */
  folder: string;
  inner: string;
}

async function edgesOf(file: string): Promise<Edge[]> {
  const text = await readFile(join(ROOT, file), "utf8");
  const edges: Edge[] = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)) {
    const spec = m[1] ?? "";
    if (spec.startsWith("#")) {
      const [alias = "", ...rest] = spec.slice(1).split("/");
      const folder = ALIAS[alias];
      if (folder) edges.push({ file, spec, folder, inner: rest.join("/") });
    } else if (spec.startsWith(".")) {
      const target = relative(ROOT, resolve(ROOT, file, "..", spec));
      const [folder = "", ...rest] = target.split("/");
      edges.push({ file, spec, folder, inner: rest.join("/") });
    }
  }
  return edges;
}

const edges = (
  await Promise.all(
    Object.keys(MAY_IMPORT).map(async (folder) => (await sources(folder)).map(edgesOf)),
  )
).flat();
const all = (await Promise.all(edges)).flat();
const folderOf = (file: string) => file.split("/")[0] ?? "";

describe("import rules", () => {
  it("reads the product's imports", () => {
    expect(all.length).toBeGreaterThan(500);
    expect(all.some((e) => e.folder === "sdk" && folderOf(e.file) === "cli")).toBe(true);
  });

  it("the rules themselves have no cycle: every folder's imports bottom out in core", () => {
    const depth = (folder: string, path: string[] = []): number => {
      if (path.includes(folder)) throw new Error(`cycle: ${[...path, folder].join(" -> ")}`);
      const below = MAY_IMPORT[folder] ?? [];
      return below.length === 0
        ? 0
        : 1 + Math.max(...below.map((f) => depth(f, [...path, folder])));
    };
    expect(Object.keys(MAY_IMPORT).map((f) => [f, depth(f)])).toEqual([
      ["core", 0],
      ["infra", 1],
      ["functions", 1],
      ["endpoint-agent", 1],
      ["sdk", 1],
      ["campaigns", 2],
      ["local", 2],
      ["cli", 3],
    ]);
  });

  it("each folder imports only the folders below it", () => {
    const wrong = all.filter((e) => {
      const from = folderOf(e.file);
      if (e.folder === from || e.spec === "../package.json") return false;
      return !MAY_IMPORT[from]?.includes(e.folder);
    });
    // The graph as it is, folder to folder with the number of imports: the run's record.
    const counts = new Map<string, number>();
    for (const e of all) {
      const from = folderOf(e.file);
      if (e.folder !== from)
        counts.set(`${from} -> ${e.folder}`, (counts.get(`${from} -> ${e.folder}`) ?? 0) + 1);
    }
    console.log(
      [...counts]
        .sort()
        .map(([edge, n]) => `${edge}: ${n}`)
        .join("\n"),
    );
    expect(wrong.map((e) => `${e.file} -> ${e.spec}`)).toEqual([]);
  });

  it("another folder's subfolders are reached through their index", async () => {
    const wrong: string[] = [];
    for (const e of all) {
      // Inside its own folder a file imports what it needs, relatively.
      if (
        e.spec === "../package.json" ||
        (e.folder === folderOf(e.file) && !e.spec.startsWith("#"))
      )
        continue;
      const parts = e.inner.split("/");
      const isIndex = parts.at(-1) === "index.ts";
      // core's top-level files are its modules; its subfolders have indexes.
      const sub = e.folder === "core" ? parts.slice(0, -1).join("/") : "";
      const pastIndex =
        e.folder === "core"
          ? sub !== "" && !isIndex && !e.file.startsWith(`core/${sub}/`)
          : !isIndex;
      const edge = `${e.file} -> ${e.spec}`;
      if (pastIndex && !PAST_INDEX_ALLOWED.has(edge)) wrong.push(edge);
    }
    expect(wrong).toEqual([]);
  });
});
