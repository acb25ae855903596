// The seed's run.py options the campaign accepts (or refuses in one line): qc-specification
// xtb, the redis backend and its server, globus, nodes per task.
import { describe, expect, it } from "vitest";
import { loadSiteConfig } from "#agent/index.ts";
import { resolveCampaignOptions } from "#campaigns/ipopt/index.ts";
import { ConfigError } from "#core/errors.ts";

const base = { qcEndpoint: "theta", mlEndpoint: "thetagpu", numQcWorkers: 2 };

describe("the seed's campaign options", () => {
  it("takes --qc-specification xtb as the seed's name for the adiabatic IP", () => {
    expect(resolveCampaignOptions({ ...base, qcSpecification: "xtb" }).qcSpecification).toBe(
      "xtb-adiabatic",
    );
    expect(() => resolveCampaignOptions({ ...base, qcSpecification: "nwchem" })).toThrow(
      /qcSpecification/,
    );
  });

  it("builds the seed's example: redis for simulate at --redishost:--redisport, file for the rest", () => {
    const o = resolveCampaignOptions({
      ...base,
      redisHost: "thetamom1",
      redisPort: "6380",
      simulatePsBackend: "redis",
      inferPsBackend: "file",
      trainPsBackend: "file",
      psThreshold: "500000",
      psFileDir: "/scratch/proxystore-dump",
    });
    expect(o.storePolicies).toEqual({
      simulate: { backend: "redis", thresholdBytes: 500_000, server: "thetamom1:6380" },
      infer: { backend: "file", thresholdBytes: 500_000, fileDir: "/scratch/proxystore-dump" },
      train: { backend: "file", thresholdBytes: 500_000, fileDir: "/scratch/proxystore-dump" },
    });
    expect(o.nodesPerTask).toBe(1);
    expect(o.thresholdEv).toBe(14);
  });

  it("defaults the Redis server to the seed's 127.0.0.1:6379 and refuses a bad port", () => {
    const o = resolveCampaignOptions({ ...base, simulatePsBackend: "redis" });
    expect(o.storePolicies.simulate).toMatchObject({ server: "127.0.0.1:6379" });
    expect(() => resolveCampaignOptions({ ...base, redisPort: "70000" })).toThrow(/redisPort/);
  });

  it.each([
    [{ trainPsBackend: "globus" }, "--train-ps-backend globus is not supported"],
    [{ psGlobusConfig: "globus_config.json" }, "--ps-globus-config: the globus store backend"],
  ])("refuses %j in one line that points to s3", (extra, start) => {
    let error: unknown;
    try {
      resolveCampaignOptions({ ...base, ...extra });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const line = (error as ConfigError).toOneLine();
    expect(line.startsWith(start)).toBe(true);
    expect(line).toContain("use s3");
    expect(line).not.toContain("\n");
  });
});

describe("the site config's Redis allow-list", () => {
  it("takes host:port entries and refuses anything else, naming the field", async () => {
    const ok = await loadSiteConfig(undefined, { storeRedisServers: ["thetamom1:6379"] });
    expect(ok.storeRedisServers).toEqual(["thetamom1:6379"]);
    expect((await loadSiteConfig(undefined)).storeRedisServers).toEqual([]);
    await expect(loadSiteConfig(undefined, { storeRedisServers: ["thetamom1"] })).rejects.toThrow(
      /storeRedisServers\.0: expected host:port/,
    );
  });
});
