/**
 * The command line of the one-file agent (scripts/build-agent.ts builds it, for sites without
 * Node): the `ferry endpoint ...` commands under the name `ferry-agent`, so a job script runs
 * `ferry-agent endpoint start <uuid> --config site.yaml` as it would run `ferry`.
 */
import { Command, CommanderError } from "commander";
import { FERRY_VERSION } from "#core/version.ts";
import { ExitCode, fail } from "./output.ts";

async function main(argv: readonly string[]): Promise<void> {
  const program = new Command()
    .name("ferry-agent")
    .description(
      "Ferry's endpoint agent in one file: the `ferry endpoint` commands, no Node needed",
    )
    .version(FERRY_VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  const args = argv.slice(2);
  // `--version` alone loads no command (as cli/program.ts): the agent's modules take ~0.5 s.
  if (!(args.length > 0 && args.every((a) => a === "--version" || a === "-V"))) {
    const { registerEndpointCommands } = await import("./commands/endpoint.ts");
    registerEndpointCommands(program);
  }
  try {
    await program.parseAsync(argv);
  } catch (error) {
    // Help and version exit 0; usage mistakes were already printed by commander.
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : ExitCode.usage);
    fail(error);
  }
}

// No top-level await: the single-executable application runs this as one CommonJS file.
main(process.argv).catch(fail);
