import type { Command } from "commander";
import type { Connection } from "#core/connect.ts";
import { ConfigError } from "#core/errors.ts";
import { registerNodeFunction, registerShellFunction } from "#sdk/index.ts";
import { withConnection } from "../connection.ts";
import { emit, table } from "../output.ts";

interface JsonOption {
  json?: boolean;
}

interface RegisterOptions extends JsonOption {
  name: string;
  shell?: string[];
  description?: string;
}

export function registerFunctionCommands(program: Command): void {
  const fn = program
    .command("function")
    .description("register and list functions that endpoints run");
  fn.command("register [file]")
    .description(
      "bundle a TypeScript/JavaScript module (default export: async (args) => value) and register it; or --shell",
    )
    .requiredOption("-n, --name <name>", "function name")
    .option("--shell <argv...>", "register a shell function: the argv to run, without a shell")
    .option("-d, --description <text>", "what it does")
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      "\nExamples:\n  ferry function register sum-squares.ts --name sum-squares\n  ferry function register --name relax -d 'xTB relaxation' --shell python3 relax.py",
    )
    .action((file: string | undefined, opts: RegisterOptions) => registerFunction(file, opts));
  fn.command("list")
    .description("registered functions, newest version of each")
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExample:\n  ferry function list")
    .action((opts: JsonOption) => withConnection((conn) => listFunctions(conn, opts)));
}

/** A Node module bundled and uploaded, or with --shell an argv; refused with neither. */
async function registerFunction(file: string | undefined, opts: RegisterOptions): Promise<void> {
  if (!file && !opts.shell) {
    throw new ConfigError("give a module file or --shell <argv...>", {
      hint: "e.g. ferry function register fn.ts --name hello",
    });
  }
  await withConnection(async (conn) => {
    const record = opts.shell
      ? await registerShellFunction(conn, opts.shell, opts.name, opts.description)
      : await registerNodeFunction(
          { s3: conn.aws.s3, bucket: conn.deployment.bucketName, control: conn.control },
          file as string,
          opts.name,
          opts.description,
        );
    emit(
      Boolean(opts.json),
      record,
      () => `registered ${record.name} (${record.spec.kind}) sha256 ${record.sha256}`,
    );
  });
}

async function listFunctions(conn: Connection, opts: JsonOption): Promise<void> {
  const { functions } = await conn.control.call("listFunctions", {});
  emit(Boolean(opts.json), functions, () =>
    functions.length === 0
      ? "no functions yet: ferry function register <file.ts> --name <name>"
      : table(
          ["NAME", "KIND", "SHA256", "REGISTERED"],
          functions.map((f) => [
            f.name,
            f.spec.kind,
            f.sha256.slice(0, 16),
            new Date(f.registeredAt).toISOString(),
          ]),
        ),
  );
}
