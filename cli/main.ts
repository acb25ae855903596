import { CommanderError } from "commander";
import { ExitCode, fail } from "./output.ts";
import { buildProgram } from "./program.ts";

// Only the command this line runs is loaded (program.ts): start-up stays fast.
const program = await buildProgram(process.argv);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version exit 0; usage mistakes were already printed by commander.
    process.exit(error.exitCode === 0 ? 0 : ExitCode.usage);
  }
  fail(error);
}
