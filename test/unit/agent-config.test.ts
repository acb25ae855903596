import { mkdtemp, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadSiteConfig } from "#agent/index.ts";
import { ConfigError } from "#core/errors.ts";

describe("site config", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ferry-site-config-"));
  });

  const write = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };

  it("fills every default without a file", async () => {
    const c = await loadSiteConfig(undefined);
    expect(c.workers).toBeGreaterThanOrEqual(1);
    expect(c).toMatchObject({
      gpuIds: [],
      allowedFunctions: undefined,
      defaultWalltimeSeconds: 3_600,
      heartbeatIntervalSeconds: 30,
      cancelPollIntervalSeconds: 5,
      pollWaitSeconds: 20,
    });
    expect(c.cacheDir).toMatch(/cache$/);
  });

  it("reads YAML, and overrides win over the file", async () => {
    const path = await write(
      "site.yaml",
      "workers: 3\nallowedFunctions: [simulate, train]\nscratchDir: /tmp/x\nshutdownGraceSeconds: 5\n",
    );
    const c = await loadSiteConfig(path, { workers: 4 });
    expect(c).toMatchObject({
      workers: 4,
      allowedFunctions: ["simulate", "train"],
      scratchDir: "/tmp/x",
      shutdownGraceSeconds: 5,
    });
  });

  it("reads ~ in a directory as the agent user's home", async () => {
    const path = await write("home.yaml", "cacheDir: ~/.ferry/cache\nspoolDir: ~/spool\n");
    const c = await loadSiteConfig(path);
    expect(c.cacheDir).toBe(join(homedir(), ".ferry", "cache"));
    expect(c.spoolDir).toBe(join(homedir(), "spool"));
    expect(c.cacheDir).not.toContain("~");
  });

  it("reads JSON and takes one slot per GPU", async () => {
    const path = await write("site.json", JSON.stringify({ gpuIds: ["0", "1", "2"] }));
    const c = await loadSiteConfig(path);
    expect(c.workers).toBe(3);
  });

  it("names the bad field", async () => {
    const path = await write("bad.json", JSON.stringify({ workers: 0 }));
    await expect(loadSiteConfig(path)).rejects.toThrow(/bad\.json: workers: /);
    await expect(loadSiteConfig(path)).rejects.toBeInstanceOf(ConfigError);
    // Each cancellation check is a control call: not more often than twice a second.
    const eager = await write("eager.json", JSON.stringify({ cancelPollIntervalSeconds: 0.1 }));
    await expect(loadSiteConfig(eager)).rejects.toThrow(/cancelPollIntervalSeconds: /);
    expect(
      (await loadSiteConfig(undefined, { cancelPollIntervalSeconds: 1 })).cancelPollIntervalSeconds,
    ).toBe(1);
  });

  it("passes named variables to functions, but never credentials or Ferry's configuration", async () => {
    const ok = await loadSiteConfig(undefined, { passEnv: ["XTBPATH", "OMP_NUM_THREADS"] });
    expect(ok.passEnv).toEqual(["XTBPATH", "OMP_NUM_THREADS"]);
    expect((await loadSiteConfig(undefined, {})).passEnv).toEqual([]);
    for (const name of ["AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "FERRY_DEPLOYMENT", "FERRY_HOME"]) {
      await expect(loadSiteConfig(undefined, { passEnv: [name] })).rejects.toThrow(
        /passEnv\.0: AWS_\* variables and Ferry's own configuration never reach functions/,
      );
    }
    await expect(loadSiteConfig(undefined, { passEnv: ["A B"] })).rejects.toThrow(
      /must be an environment variable name/,
    );
  });

  it("takes names or name@sha256:<hex> pins in allowedFunctions, nothing else", async () => {
    const pin = `simulate@sha256:${"a".repeat(64)}`;
    const ok = await loadSiteConfig(undefined, { allowedFunctions: ["train", pin] });
    expect(ok.allowedFunctions).toEqual(["train", pin]);
    for (const bad of ["simulate@sha256:abc", "simulate@latest", "../x"]) {
      await expect(loadSiteConfig(undefined, { allowedFunctions: [bad] })).rejects.toThrow(
        /allowedFunctions\.0: must be a function name, or name@sha256:<64 hex digits>/,
      );
    }
  });

  it("refuses unknown keys (typos) and inconsistent GPU slots", async () => {
    const typo = await write("typo.yaml", "wrokers: 2\n");
    await expect(loadSiteConfig(typo)).rejects.toThrow(/wrokers/);
    const gpus = await write("gpus.yaml", "workers: 4\ngpuIds: ['0', '1']\n");
    await expect(loadSiteConfig(gpus)).rejects.toThrow(/workers: must equal the number of gpuIds/);
  });

  it("validates store policies per topic, naming the topic", async () => {
    const ok = await write(
      "stores.yaml",
      "storeFileDir: /mnt/shared/ferry\nstorePolicies:\n  infer: { backend: file, fileDir: /mnt/shared/ferry, thresholdBytes: '500000' }\n  '*': { backend: s3 }\n",
    );
    const c = await loadSiteConfig(ok);
    expect(c.storePolicies).toEqual({
      infer: { backend: "file", fileDir: "/mnt/shared/ferry", thresholdBytes: 500_000 },
      "*": { backend: "s3", thresholdBytes: 10_000 },
    });
    const bad = await write("stores-bad.yaml", "storePolicies:\n  train: { backend: globus }\n");
    await expect(loadSiteConfig(bad)).rejects.toThrow(
      /stores-bad\.yaml: storePolicies\.train: backend/,
    );
    const noDir = await write("stores-nodir.yaml", "storePolicies:\n  train: { backend: file }\n");
    await expect(loadSiteConfig(noDir)).rejects.toThrow(/storePolicies\.train: fileDir/);
    const other = await write(
      "stores-other.yaml",
      "storeFileDir: /a\nstorePolicies:\n  train: { backend: file, fileDir: /b }\n",
    );
    await expect(loadSiteConfig(other)).rejects.toThrow(/must be storeFileDir/);
  });

  it("says when the file is missing or not parseable", async () => {
    await expect(loadSiteConfig(join(dir, "missing.json"))).rejects.toThrow(
      /cannot read site config/,
    );
    const broken = await write("broken.json", "{ workers: ");
    await expect(loadSiteConfig(broken)).rejects.toThrow(/is not valid JSON/);
  });
});

describe("the shipped example site config", () => {
  it("is valid", async () => {
    const path = new URL("../../endpoint-agent/site-config.example.yaml", import.meta.url).pathname;
    const c = await loadSiteConfig(path);
    expect(c).toMatchObject({ workers: 8, allowedFunctions: ["simulate", "train", "infer"] });
  });
});
