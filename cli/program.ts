import { Command } from "commander";
import { FERRY_VERSION } from "#core/version.ts";

type Register = (program: Command) => void;

/**
 * The top-level commands, in help order, each with the module(s) that declare it. A module is
 * imported only when its command runs (or for help, which lists them all): the command
 * modules pull in the SDK, zod schemas and the campaign, about 300 modules, and `ferry
 * --version` needs none of them.
 */
const COMMANDS: ReadonlyArray<{ names: readonly string[]; load(): Promise<Register[]> }> = [
  {
    names: ["local"],
    load: async () => [(await import("./commands/local.ts")).registerLocalCommands],
  },
  {
    // `endpoint jobscript` is declared in its own module, under the endpoint group.
    names: ["endpoint"],
    load: async () => {
      const [endpoint, jobscript] = await Promise.all([
        import("./commands/endpoint.ts"),
        import("./commands/jobscript.ts"),
      ]);
      return [endpoint.registerEndpointCommands, jobscript.registerJobscriptCommand];
    },
  },
  {
    names: ["group"],
    load: async () => [(await import("./commands/group.ts")).registerGroupCommands],
  },
  {
    names: ["function"],
    load: async () => [(await import("./commands/function.ts")).registerFunctionCommands],
  },
  { names: ["run"], load: async () => [(await import("./commands/run.ts")).registerRunCommand] },
  {
    names: ["submit"],
    load: async () => [(await import("./commands/submit.ts")).registerSubmitCommand],
  },
  {
    names: ["tasks", "cancel"],
    load: async () => [(await import("./commands/tasks.ts")).registerTaskCommands],
  },
  { names: ["logs"], load: async () => [(await import("./commands/logs.ts")).registerLogsCommand] },
  {
    names: ["results"],
    load: async () => [(await import("./commands/results.ts")).registerResultsCommand],
  },
  {
    names: ["session"],
    load: async () => [(await import("./commands/session.ts")).registerSessionCommands],
  },
  {
    names: ["status"],
    load: async () => [(await import("./commands/status.ts")).registerStatusCommand],
  },
  {
    names: ["campaign"],
    load: async () => [(await import("./commands/campaign.ts")).registerCampaignCommands],
  },
  { names: ["demo"], load: async () => [(await import("./commands/demo.ts")).registerDemoCommand] },
  {
    names: ["deployment"],
    load: async () => [(await import("./commands/deployment.ts")).registerDeploymentCommands],
  },
];

/**
 * The `ferry` command tree, built without parsing anything. With no `argv`, every command (tests
 * walk the whole tree: every command's help must show an example, docs/cli.md is written from
 * it). With `argv` (main.ts), only what that command line runs: the one command it names,
 * nothing for a bare `--version`, and every command for help, an unknown word (commander's
 * did-you-mean needs the names) or no command at all.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command()
    .name("ferry")
    .description("Ferry: run tasks on compute endpoints at HPC and GPU sites through AWS queues")
    .version(FERRY_VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  for (const entry of commandsFor(argv)) {
    for (const register of await entry.load()) register(program);
  }
  return program;
}

function commandsFor(argv: readonly string[] | undefined): typeof COMMANDS {
  if (argv === undefined) return COMMANDS;
  const args = argv.slice(2);
  const word = args.find((a) => !a.startsWith("-"));
  if (word === undefined) {
    const versionOnly = args.length > 0 && args.every((a) => a === "--version" || a === "-V");
    return versionOnly ? [] : COMMANDS;
  }
  const named = COMMANDS.find((c) => c.names.includes(word));
  return named ? [named] : COMMANDS;
}
