// Writes docs/cli.md from the command tree (`npm run docs:cli`).
import { writeFile } from "node:fs/promises";
import { buildProgram } from "#cli/program.ts";
import { cliReference } from "#cli/reference.ts";

await writeFile(new URL("../docs/cli.md", import.meta.url), cliReference(await buildProgram()));
console.error("docs/cli.md written");
