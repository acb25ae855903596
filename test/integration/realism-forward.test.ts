// The realism proxy's forwarding: a client that is gone before upstream answers must not crash
// the proxy (pipeline() throws at once into a destroyed response). CI's compat fault run died
// of exactly that.
import { Agent, createServer, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forward } from "../realism/forward.ts";

const servers: Server[] = [];
let upstreamUrl: URL;

const listen = async (server: Server) => {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

beforeAll(async () => {
  upstreamUrl = new URL(
    await listen(
      createServer((req, res) => {
        req.resume();
        req.on("end", () => res.end("answer"));
      }),
    ),
  );
});

afterAll(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

describe("forward", () => {
  it("answers the exchange with upstream's status when the client's response is already destroyed", async () => {
    const agent = new Agent({ keepAlive: true });
    const statuses: Array<number | undefined> = [];
    const proxyUrl = await listen(
      createServer(async (req, res) => {
        // The client's response is destroyed when upstream answers, its "close" not yet
        // emitted (it comes a tick later): the order the race produced in CI.
        const gone = new Writable({ emitClose: false, write: (_c, _e, cb) => cb() });
        gone.destroy();
        const body = Buffer.from("x");
        statuses.push(
          await forward(
            { url: upstreamUrl, agent },
            req,
            gone as unknown as ServerResponse,
            body,
            false,
          ),
        );
        res.end();
      }),
    );
    await new Promise<void>((resolve) => {
      const r = request(proxyUrl, { method: "POST" });
      r.on("error", () => resolve());
      r.on("response", () => resolve());
      r.end("x");
    });
    for (let i = 0; i < 200 && statuses.length === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(statuses).toEqual([200]);
    agent.destroy();
  });
});
