import type { Command } from "commander";

/** Help is wrapped at this width, whatever the terminal: the reference must not depend on it. */
const HELP_WIDTH_COLUMNS = 100;

/** Every command of the tree with its path from the root, groups before their commands. */
function walk(command: Command, path: string[]): Array<{ path: string[]; command: Command }> {
  return command.commands.flatMap((sub) => {
    const here = [...path, sub.name()];
    return [{ path: here, command: sub }, ...walk(sub, here)];
  });
}

/** The help text exactly as `--help` prints it, with what addHelpText("after") adds. */
export function helpText(command: Command): string {
  let text = "";
  command.configureOutput({
    writeOut: (s) => {
      text += s;
    },
    getOutHelpWidth: () => HELP_WIDTH_COLUMNS,
  });
  command.outputHelp();
  return text;
}

/**
 * docs/cli.md: every command's --help, generated from the command tree itself
 * (`npm run docs:cli`), so the reference cannot drift from the code (a test compares them).
 */
export function cliReference(program: Command): string {
  const parts = [
    "# `ferry` command reference",
    "",
    "Generated from the CLI's own `--help` by `npm run docs:cli`; `test/unit/cli-reference.test.ts`",
    "fails when it is out of date. Exit codes: 0 success, 1 the task failed, 2 a usage or",
    "configuration mistake, 3 something named does not exist, 4 AWS or the deployment could not",
    "be reached, 124 no result before `--timeout`.",
    "",
    "```text",
    helpText(program).trimEnd(),
    "```",
  ];
  for (const { path, command } of walk(program, [])) {
    parts.push("", `## ferry ${path.join(" ")}`, "", "```text", helpText(command).trimEnd(), "```");
  }
  return `${parts.join("\n")}\n`;
}
