import { createServer, connect as netConnect } from "node:net";
import { join } from "node:path";
import { type Peer, pythonPeer, startedOrStopped } from "./peer.ts";
import {
  LineClient,
  PEERS_DIR,
  PYTHON,
  pythonEnv,
  spawnGroup,
  waitUntil,
  words,
} from "./processes.ts";

/**
 * Celery with Redis as broker and result backend: a redis-server of its own on a free port,
 * `celery worker --pool prefork --concurrency W` and the client. `dir` holds the logs.
 */
export async function startCelery(workers: number, dir: string): Promise<Peer> {
  const port = await freePort();
  const env = pythonEnv({ FERRY_PEERS_REDIS_URL: `redis://127.0.0.1:${port}/0` });
  return startedOrStopped(async (groups) => {
    const redis = spawnGroup(
      "redis-server",
      // Nothing saved: no RDB snapshot, no append-only file.
      [
        ...["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""],
        ...words("--appendonly no --loglevel warning"),
      ],
      { logFile: join(dir, "redis.log") },
    );
    groups.push(redis);
    await waitUntil(redis, "redis-server", () => pong(port));
    const workerSide = spawnGroup(
      PYTHON,
      [
        ...words(`-m celery -A celery_app worker --pool prefork --concurrency ${workers}`),
        ...words(`--loglevel WARNING --hostname peers-${workers}@%h`),
      ],
      { env, cwd: PEERS_DIR, logFile: join(dir, "celery-worker.log") },
    );
    groups.push(workerSide);
    const client = new LineClient(
      [join(PEERS_DIR, "celery_bench.py")],
      env,
      join(dir, "celery-client.log"),
    );
    groups.push(client.group);
    return pythonPeer("Celery+Redis", client, groups, workerSide);
  });
}

/** A port nobody listens on now (the OS's pick); redis-server takes it a moment later. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

/** Whether a Redis server answers PING on the port. */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect(port, "127.0.0.1");
    socket.setTimeout(1_000, () => socket.destroy());
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (data) => {
      resolve(data.toString().startsWith("+PONG"));
      socket.destroy();
    });
    socket.on("error", () => resolve(false));
    socket.on("close", () => resolve(false));
  });
}
