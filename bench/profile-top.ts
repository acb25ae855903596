// Summarize V8 CPU profiles: self time by function, and by file, heaviest first.
//   node bench/profile-top.ts <dir or .cpuprofile files> [--top 25]
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { benchArgs } from "./args.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

const { values, positionals } = benchArgs(
  "profile-top",
  "usage: node bench/profile-top.ts <dir or .cpuprofile files> [--top 25]",
  {
    allowPositionals: true,
    options: { top: { type: "string", default: "25" } },
  },
);
const files: string[] = [];
for (const p of positionals) {
  if ((await stat(p)).isDirectory()) {
    for (const f of await readdir(p)) if (f.endsWith(".cpuprofile")) files.push(join(p, f));
  } else files.push(p);
}
for (const file of files) {
  const profile = JSON.parse(await readFile(file, "utf8")) as Profile;
  const total = profile.samples.length;
  const wallS = (profile.endTime - profile.startTime) / 1e6;
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const short = url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*?\/main\//, "");
    const fn = `${functionName || "(anonymous)"} ${short}:${lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + hits);
    const where = url === "" ? functionName : short.split("/").slice(0, 2).join("/");
    byFile.set(where, (byFile.get(where) ?? 0) + hits);
  }
  const idle = byFn.get("(idle) :0") ?? 0;
  console.log(
    `\n${file}: ${wallS.toFixed(1)} s, ${total} samples, ${((100 * (total - idle)) / total).toFixed(0)} % busy`,
  );
  const top = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, Number(values.top))
      .map(([k, v]) => `  ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`)
      .join("\n");
  console.log(`by package/file:\n${top(byFile)}\nby function:\n${top(byFn)}`);
}
