// A real redis-server (Debian's, installed by scripts/setup) on a free port, in a temp dir,
// with persistence off: what the redis store's tests and the seed's command line run against.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";

export interface RedisServerProcess {
  host: string;
  port: number;
  /** `host:port`, as a redis policy or site config names it. */
  server: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, "127.0.0.1");
  await once(probe, "listening");
  const address = probe.address();
  probe.close();
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

/** Start redis-server and wait until it answers PING. */
export async function startRedisServer(): Promise<RedisServerProcess> {
  const dir = await mkdtemp(join(tmpdir(), "ferry-redis-"));
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir];
  const child = spawn("redis-server", [...args, "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = once(child, "exit");
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ping = new Redis({
      host: "127.0.0.1",
      port,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    ping.on("error", () => undefined);
    try {
      await ping.connect();
      await ping.ping();
      break;
    } catch (error) {
      if (Date.now() > deadline || child.exitCode !== null) throw error;
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      ping.disconnect();
    }
  }
  return {
    host: "127.0.0.1",
    port,
    server: `127.0.0.1:${port}`,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
