// The benchmarks' command lines: parseArgs, with a bad option answered in one line (never a stack).
import { type ParseArgsConfig, parseArgs } from "node:util";

/** `parseArgs(config)`, or one line naming the bad option and where the options are, and exit 2. */
export function benchArgs<T extends ParseArgsConfig>(
  name: string,
  usage: string,
  config: T,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    console.error(`${name}: ${(error as Error).message.split(". ")[0]}. ${usage}`);
    process.exit(2);
  }
}
