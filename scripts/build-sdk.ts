// Builds the SDK's published entry point, dist/sdk/index.js and index.d.ts (`npm run build:sdk`;
// `npm pack` runs it). Ferry's sources are TypeScript, and Node never strips types under
// node_modules, so a steering program in another project imports this bundle instead.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateDtsBundle } from "dts-bundle-generator";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "dist", "sdk");
const entry = join(root, "sdk", "index.ts");

await mkdir(outDir, { recursive: true });
await build({
  entryPoints: [entry],
  outfile: join(outDir, "index.js"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  // The package's own dependencies are installed beside it: import them, do not copy them in.
  packages: "external",
  legalComments: "none",
  logLevel: "warning",
});
const started = Date.now();
const [types] = generateDtsBundle([{ filePath: entry, output: { noBanner: true } }], {
  preferredConfigPath: join(root, "tsconfig.sdk.json"),
});
if (!types) throw new Error("dts-bundle-generator produced no declarations");
await writeFile(join(outDir, "index.d.ts"), types);
console.error(`build-sdk: dist/sdk/index.js and index.d.ts (types in ${Date.now() - started} ms)`);
