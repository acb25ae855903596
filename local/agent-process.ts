import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { fileURLToPath } from "node:url";

const FERRY_BIN = fileURLToPath(new URL("../bin/ferry.js", import.meta.url));

export interface AgentProcessOptions {
  endpointId: string;
  /** Environment of the agent (FERRY_HOME or FERRY_DEPLOYMENT point it at the deployment). */
  env: NodeJS.ProcessEnv;
  configPath?: string;
  /** File that receives the agent's JSON log lines. Unset: inherited stderr. */
  logFile?: string;
  /** Where the agent keeps its AWS request tally (`--request-meter`). Unset: not metered. */
  requestMeterFile?: string;
}

export interface AgentProcess {
  child: ChildProcess;
  /** SIGTERM, then SIGKILL after graceMs; resolves with the exit code or signal. */
  stop(graceMs?: number): Promise<number | string | null>;
  kill(): void;
}

/** Start `ferry endpoint start <id>` as a real child process, as a site would. */
export function spawnAgent(options: AgentProcessOptions): AgentProcess {
  const args = [FERRY_BIN, "endpoint", "start", options.endpointId];
  if (options.configPath) args.push("--config", options.configPath);
  if (options.requestMeterFile) args.push("--request-meter", options.requestMeterFile);
  const child = spawn(process.execPath, args, {
    env: options.env,
    stdio: ["ignore", "inherit", options.logFile ? "pipe" : "inherit"],
  });
  if (options.logFile && child.stderr)
    child.stderr.pipe(createWriteStream(options.logFile, { flags: "a" }));
  const exited = once(child, "exit").then(
    ([code, signal]) => (code ?? signal) as number | string | null,
  );
  return {
    child,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null)
        return child.exitCode ?? child.signalCode;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    kill() {
      child.kill("SIGKILL");
    },
  };
}
