import { Command } from "commander";
import { FERRY_VERSION } from "#core/version.ts";
import { registerCampaignCommands } from "./commands/campaign.ts";
import { registerDemoCommand } from "./commands/demo.ts";
import { registerDeploymentCommands } from "./commands/deployment.ts";
import { registerEndpointCommands } from "./commands/endpoint.ts";
import { registerFunctionCommands } from "./commands/function.ts";
import { registerJobscriptCommand } from "./commands/jobscript.ts";
import { registerLocalCommands } from "./commands/local.ts";
import { registerLogsCommand } from "./commands/logs.ts";
import { registerResultsCommand } from "./commands/results.ts";
import { registerRunCommand } from "./commands/run.ts";
import { registerSessionCommands } from "./commands/session.ts";
import { registerStatusCommand } from "./commands/status.ts";
import { registerSubmitCommand } from "./commands/submit.ts";
import { registerTaskCommands } from "./commands/tasks.ts";

/**
 * The `ferry` command tree, built without parsing anything: main.ts parses argv with it, and
 * tests walk it (every command's help must show an example).
 */
export function buildProgram(): Command {
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
  registerLogsCommand(program);
  registerResultsCommand(program);
  registerSessionCommands(program);
  registerStatusCommand(program);
  registerCampaignCommands(program);
  registerDemoCommand(program);
  registerDeploymentCommands(program);
  return program;
}
