import { readFile } from "node:fs/promises";
import { extname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { loadSiteConfig } from "#agent/index.ts";

/** What the job script needs to know of a site config file. */
export interface SiteSummary {
  /** Absolute path, as the agents on the compute nodes will read it. */
  path: string;
  endpointId: string | undefined;
  gpuIds: string[];
  shutdownGraceSeconds: number;
  killGraceSeconds: number;
  /** Directories the file sets itself (not defaulted): shared by every agent of the job. */
  explicit: { spoolDir?: string; cacheDir?: string };
  /** Directory settings given as relative paths: each agent resolves them against its cwd. */
  relativeDirs: string[];
}

/**
 * Validate a site config as the agent will (same errors, now rather than in the batch queue)
 * and note which state directories it fixes.
 */
export async function readSiteSummary(path: string): Promise<SiteSummary> {
  const absolute = resolve(path);
  const config = await loadSiteConfig(absolute);
  // Valid by now; read again only to tell a set directory from a defaulted one.
  const text = await readFile(absolute, "utf8");
  const ext = extname(absolute).toLowerCase();
  const raw = ((ext === ".yaml" || ext === ".yml" ? parseYaml(text) : JSON.parse(text)) ??
    {}) as Record<string, unknown>;
  const explicit: SiteSummary["explicit"] = {};
  if (typeof raw.spoolDir === "string") explicit.spoolDir = config.spoolDir;
  if (typeof raw.cacheDir === "string") explicit.cacheDir = config.cacheDir;
  const relativeDirs = (["scratchDir", "spoolDir", "cacheDir"] as const).filter((key) => {
    const value = raw[key];
    return typeof value === "string" && !isAbsolute(value);
  });
  return {
    path: absolute,
    endpointId: config.endpointId,
    gpuIds: config.gpuIds,
    shutdownGraceSeconds: config.shutdownGraceSeconds,
    killGraceSeconds: config.killGraceSeconds,
    explicit,
    relativeDirs,
  };
}
