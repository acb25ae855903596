import { describe, expect, it } from "vitest";
import { type PeerStats, peerRows, targetFor } from "../../bench/peers/rows.ts";
import { parsePssKiB } from "../../bench/proc.ts";

describe("bench:peers", () => {
  it("reads Pss, not Pss_Anon or Pss_File, from smaps_rollup", () => {
    const text = [
      "55d0c0a00000-7ffd5a9f6000 ---p 00000000 00:00 0                          [rollup]",
      "Rss:               98088 kB",
      "Pss:               61234 kB",
      "Pss_Anon:          40100 kB",
      "Pss_File:          21134 kB",
      "Shared_Clean:      37000 kB",
    ].join("\n");
    expect(parsePssKiB(text)).toBe(61234);
    expect(parsePssKiB("Pss_Anon: 12 kB\n")).toBe(0);
    // A process gone between the tree walk and the read leaves an empty file.
    expect(parsePssKiB("")).toBe(0);
  });

  it("sets issue #17's targets where it names them, and reports the rest", () => {
    expect(targetFor("tasksPerS", "Celery+Redis", 2)).toBe(1);
    expect(targetFor("tasksPerS", "Celery+Redis", 4)).toBe(1);
    expect(targetFor("idlePssMiB", "Dask", 2)).toBe(1);
    expect(targetFor("idlePssMiB", "Dask", 4)).toBeUndefined();
    expect(targetFor("tasksPerS", "Dask", 2)).toBeUndefined();
    expect(targetFor("roundtripMedianMs", "Celery+Redis", 2)).toBeUndefined();
  });

  it("rows are Ferry / peer, met by direction: higher throughput, lower memory", () => {
    const stats = (tasksPerS: number, idlePssMiB: number): PeerStats => ({
      roundtripMedianMs: 4,
      roundtripP99Ms: 8,
      tasksPerS,
      idlePssMiB,
      idleAfterRunsPssMiB: idlePssMiB,
    });
    const rows = peerRows(2, 2_000, {
      Ferry: stats(300, 200),
      Dask: stats(1_200, 190),
      "Celery+Redis": stats(200, 70),
    });
    expect(rows).toHaveLength(10);
    const row = (what: string, peer: string) =>
      rows.find((r) => r.what.startsWith(what) && r.baselineName === peer);
    expect(row("throughput, 2000 no-ops", "Celery+Redis")).toMatchObject({
      benchmark: "P2",
      ratio: 1.5,
      target: ">= 1x",
      met: true,
    });
    expect(row("idle worker side Pss, 2", "Dask")).toMatchObject({ target: "<= 1x", met: false });
    expect(row("idle worker side Pss after", "Dask")).toMatchObject({
      target: "-",
      met: undefined,
    });
    expect(row("throughput", "Dask")).toMatchObject({ ratio: 0.25, met: undefined });
    const at4 = peerRows(4, 200, { Ferry: stats(1, 1), Dask: stats(1, 2) });
    expect(at4.map((r) => r.baselineName)).toEqual(["Dask", "Dask", "Dask", "Dask", "Dask"]);
    expect(at4.every((r) => r.met === undefined)).toBe(true);
  });
});
