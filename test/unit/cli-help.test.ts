// Every `ferry` command's --help shows at least one example: walks the real command tree, so
// a new command cannot ship without one.
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "#cli/program.ts";

function leaves(command: Command, path: string[] = []): Array<[string, Command]> {
  return command.commands.flatMap((sub) => {
    const here = [...path, sub.name()];
    return sub.commands.length === 0
      ? [[here.join(" "), sub] as [string, Command]]
      : leaves(sub, here);
  });
}

/** The help text as `--help` prints it, with what addHelpText("after") adds. */
function helpOf(command: Command): string {
  let text = "";
  command.configureOutput({
    writeOut: (s) => {
      text += s;
    },
  });
  command.outputHelp();
  return text;
}

describe("ferry --help", () => {
  const all = leaves(buildProgram());

  it("finds the command tree", () => {
    const names = all.map(([name]) => name);
    for (const name of ["run", "logs", "endpoint register", "session close", "campaign report"])
      expect(names).toContain(name);
  });

  it.each(all)("%s shows an example", (_name, command) => {
    // An "Example:" heading, and an indented command line under it that runs ferry.
    expect(helpOf(command)).toMatch(/\nExamples?:\n {2}[^\n]*\bferry /);
  });
});
