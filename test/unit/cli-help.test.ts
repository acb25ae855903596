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

const all = leaves(await buildProgram());

describe("ferry --help", () => {
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

describe("what a command line loads", () => {
  const names = async (...args: string[]) =>
    (await buildProgram(["node", "ferry", ...args])).commands.map((c) => c.name());

  it("a bare --version loads no command; help, no command or an unknown word load them all", async () => {
    expect(await names("--version")).toEqual([]);
    const every = (await buildProgram()).commands.map((c) => c.name());
    expect(every.length).toBeGreaterThan(10);
    expect(await names("--help")).toEqual(every);
    expect(await names()).toEqual(every);
    expect(await names("endpiont", "list")).toEqual(every);
  });

  it("a command loads only its own group", async () => {
    expect(await names("endpoint", "list", "--json")).toEqual(["endpoint"]);
    const endpoint = (await buildProgram(["node", "ferry", "endpoint"])).commands[0];
    expect(endpoint?.commands.map((c) => c.name())).toContain("jobscript");
    expect(await names("cancel", "x")).toEqual(["tasks", "cancel"]);
  });
});
