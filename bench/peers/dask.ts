import { readFile } from "node:fs/promises";
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
 * Dask distributed as a user runs it on one machine, each part in its own process as Ferry's
 * are: `dask scheduler`, `dask worker --nworkers W --nthreads 1` (a nanny per worker, the
 * default) and the client. Not LocalCluster: it keeps the nannies in the client's process,
 * where their memory cannot be told from the client's. `dir` holds the logs and spill files.
 */
export async function startDask(workers: number, dir: string): Promise<Peer> {
  const env = pythonEnv();
  const schedulerFile = join(dir, "dask-scheduler.json");
  return startedOrStopped(async (groups) => {
    const scheduler = spawnGroup(
      PYTHON,
      [
        ...words("-m distributed.cli.dask_scheduler --host 127.0.0.1 --port 0 --no-dashboard"),
        ...["--scheduler-file", schedulerFile],
      ],
      { env, logFile: join(dir, "dask-scheduler.log") },
    );
    groups.push(scheduler);
    await waitUntil(scheduler, "Dask scheduler", async () => {
      JSON.parse(await readFile(schedulerFile, "utf8"));
      return true;
    });
    const workerSide = spawnGroup(
      PYTHON,
      [
        ...words(`-m distributed.cli.dask_worker --nworkers ${workers} --nthreads 1`),
        ...words("--host 127.0.0.1 --no-dashboard"),
        ...["--scheduler-file", schedulerFile, "--local-directory", dir],
      ],
      { env, logFile: join(dir, "dask-worker.log") },
    );
    groups.push(workerSide);
    const script = join(PEERS_DIR, "dask_bench.py");
    const client = new LineClient(
      [script, schedulerFile, String(workers)],
      env,
      join(dir, "dask-client.log"),
    );
    groups.push(client.group);
    return pythonPeer("Dask", client, groups, workerSide);
  });
}
