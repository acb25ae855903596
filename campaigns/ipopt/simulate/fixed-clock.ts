import { createHash } from "node:crypto";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runProcess } from "./run-process.ts";

/**
 * Open Babel seeds its random numbers (used by --gen3d) from gettimeofday and offers no seed
 * option, so two runs give different geometries. This LD_PRELOAD shim pins the clock that
 * obabel sees to FERRY_OBABEL_SEED, which makes the geometry a function of (SMILES, seed).
 */
const SHIM_SOURCE = `#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
static long ferry_seed(void) {
  const char *s = getenv("FERRY_OBABEL_SEED");
  return s ? atol(s) : 0;
}
int gettimeofday(struct timeval *tv, void *tz) {
  (void)tz;
  if (tv) { tv->tv_sec = 1000000000; tv->tv_usec = ferry_seed() % 1000000; }
  return 0;
}
time_t time(time_t *t) {
  time_t now = 1000000000 + ferry_seed() / 1000000;
  if (t) *t = now;
  return now;
}
`;

const shimHash = createHash("sha256").update(SHIM_SOURCE).digest("hex").slice(0, 12);
let cached: Promise<string | undefined> | undefined;

/**
 * Path of the compiled shim, built once per machine with the C compiler (`cc`); undefined when
 * no compiler is available (the caller then falls back to the best of several conformers).
 */
export function fixedClockShim(cacheDir: string = defaultCacheDir()): Promise<string | undefined> {
  cached ??= buildShim(cacheDir);
  return cached;
}

function defaultCacheDir(): string {
  return process.env.FERRY_CACHE_DIR ?? join(tmpdir(), "ferry-cache");
}

async function buildShim(cacheDir: string): Promise<string | undefined> {
  const target = join(cacheDir, `obabel-fixed-clock-${shimHash}.so`);
  if (await exists(target)) return target;
  await mkdir(cacheDir, { recursive: true });
  const unique = `${process.pid}-${Date.now()}`;
  const source = join(cacheDir, `obabel-fixed-clock-${unique}.c`);
  const partial = join(cacheDir, `obabel-fixed-clock-${unique}.so`);
  await writeFile(source, SHIM_SOURCE);
  try {
    const out = await runProcess(
      process.env.CC ?? "cc",
      ["-shared", "-fPIC", "-O2", "-o", partial, source],
      { cwd: cacheDir, env: process.env, timeoutMs: 60_000 },
    );
    if (out.code !== 0) return undefined;
    // rename is atomic: concurrent workers never load a half-written library.
    await rename(partial, target);
    return target;
  } catch {
    return undefined;
  } finally {
    await rm(source, { force: true });
    await rm(partial, { force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
