import { Command, CommanderError } from "commander";
import { FERRY_VERSION } from "#core/version.ts";
import { registerCampaignCommands } from "./commands/campaign.ts";
import { registerDemoCommand } from "./commands/demo.ts";
import { registerDeploymentCommands } from "./commands/deployment.ts";
import { registerEndpointCommands } from "./commands/endpoint.ts";
import { registerFunctionCommands } from "./commands/function.ts";
import { registerJobscriptCommand } from "./commands/jobscript.ts";
import { registerLocalCommands } from "./commands/local.ts";
import { registerResultsCommand } from "./commands/results.ts";
import { registerRunCommand } from "./commands/run.ts";
import { registerSessionCommands } from "./commands/session.ts";
import { registerStatusCommand } from "./commands/status.ts";
import { registerSubmitCommand } from "./commands/submit.ts";
import { registerTaskCommands } from "./commands/tasks.ts";
import { ExitCode, fail } from "./output.ts";

const program = new Command()
  .name("ferry")
  .description("Ferry: run tasks on compute endpoints at HPC and GPU sites through AWS queues")
  .version(FERRY_VERSION)
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();

registerLocalCommands(program);
registerEndpointCommands(program);
registerJobscriptCommand(program);
registerFunctionCommands(program);
registerRunCommand(program);
registerSubmitCommand(program);
registerTaskCommands(program);
registerResultsCommand(program);
registerSessionCommands(program);
registerStatusCommand(program);
registerCampaignCommands(program);
registerDemoCommand(program);
registerDeploymentCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version exit 0; usage mistakes were already printed by commander.
    process.exit(error.exitCode === 0 ? 0 : ExitCode.usage);
  }
  fail(error);
}
