import { describe, expect, it } from "vitest";
import { resolveCampaignOptions } from "../../campaigns/ipopt/run/options.ts";
import { combine, rank } from "../../campaigns/ipopt/run/ranking.ts";
import { Flag, ResourceSlots } from "../../campaigns/ipopt/steering/index.ts";

describe("steering primitives", () => {
  it("slots let capacity tasks in and wake the longest waiter on release", async () => {
    const slots = new ResourceSlots({ simulate: 1 });
    await slots.acquire("simulate");
    const order: string[] = [];
    const a = slots.acquire("simulate").then(() => order.push("a"));
    const b = slots.acquire("simulate").then(() => order.push("b"));
    slots.release("simulate");
    await a;
    slots.release("simulate");
    await b;
    expect(order).toEqual(["a", "b"]);
    expect(slots.available("simulate")).toBe(0);
  });

  it("a waiting acquire rejects when its signal aborts", async () => {
    const slots = new ResourceSlots({ train: 0 });
    const stop = new AbortController();
    const waiting = slots.acquire("train", stop.signal);
    stop.abort(new Error("done"));
    await expect(waiting).rejects.toThrow("done");
  });

  it("a flag wakes its waiters when set", async () => {
    const flag = new Flag();
    const woken = flag.wait();
    flag.set();
    await expect(woken).resolves.toBeUndefined();
    flag.clear();
    expect(flag.isSet).toBe(false);
  });
});

describe("ranking", () => {
  const models = [
    { mean: Float64Array.from([10, 12, 11]), std: Float64Array.from([0, 0, 1]) },
    { mean: Float64Array.from([10, 12, Number.NaN]), std: Float64Array.from([0, 0, 0]) },
  ];

  it("combines models into mean and spread, skipping a model's missing scores", () => {
    const c = combine(models);
    expect(Array.from(c.mean)).toEqual([10, 12, 11]);
    expect(c.std[2]).toBeCloseTo(1);
  });

  it("UCB favours spread, greedy the mean, and both skip searched molecules", () => {
    const scores = combine(models);
    const none = () => false;
    expect(rank(scores, { policy: "ucb", beta: 2, seed: 0, exclude: none })).toEqual([2, 1, 0]);
    expect(rank(scores, { policy: "greedy", beta: 2, seed: 0, exclude: none })).toEqual([1, 2, 0]);
    expect(rank(scores, { policy: "greedy", beta: 0, seed: 0, exclude: (i) => i === 1 })).toEqual([
      2, 0,
    ]);
    expect(rank(scores, { policy: "random", beta: 0, seed: 1, exclude: none }).sort()).toEqual([
      0, 1, 2,
    ]);
  });
});

describe("campaign options", () => {
  it("fills the seed's defaults and builds per-topic store policies", () => {
    const o = resolveCampaignOptions({ qcEndpoint: "cpu", mlEndpoint: "gpu", numQcWorkers: "4" });
    expect(o).toMatchObject({ numQcWorkers: 4, modelCount: 8, searchSize: 500, beta: 1 });
    expect(o.storePolicies.infer).toEqual({ backend: "s3", thresholdBytes: 10_000 });
    const inline = resolveCampaignOptions({
      qcEndpoint: "cpu",
      mlEndpoint: "gpu",
      numQcWorkers: 1,
      proxystore: false,
    });
    expect(inline.storePolicies.train?.backend).toBe("none");
  });

  it("names the bad option", () => {
    expect(() =>
      resolveCampaignOptions({ qcEndpoint: "a", mlEndpoint: "b", numQcWorkers: 1, policy: "x" }),
    ).toThrow(/policy/);
    expect(() =>
      resolveCampaignOptions({
        qcEndpoint: "a",
        mlEndpoint: "b",
        numQcWorkers: 1,
        inferPsBackend: "file",
      }),
    ).toThrow(/fileDir/);
  });
});
