// Compute nodes often reach AWS only through an HTTP proxy: the clients must use it when
// HTTP(S)_PROXY is set, and not otherwise.
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { ListQueuesCommand } from "@aws-sdk/client-sqs";
import { type FauxqsServer, startFauxqs } from "fauxqs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createAwsClients, EMULATOR_CREDENTIALS } from "#core/aws/index.ts";

let emulator: FauxqsServer;
let hits = 0;
// A plain forward proxy for http:// URLs, counting what passes through it.
const proxy = createServer((req, res) => {
  hits++;
  const url = new URL(req.url ?? "");
  const upstream = request(
    {
      host: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      method: req.method,
      headers: req.headers,
    },
    (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    },
  );
  req.pipe(upstream);
});

beforeAll(async () => {
  emulator = await startFauxqs({ port: 0, logger: false });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
});
afterAll(async () => {
  proxy.close();
  await emulator.stop();
});

it("sends AWS calls through HTTP_PROXY when it is set, directly when it is not", async () => {
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const base = {
    region: "us-east-1",
    endpoints: { sqs: emulator.address },
    credentials: EMULATOR_CREDENTIALS,
  };
  const viaProxy = createAwsClients({ ...base, proxyEnv: { HTTP_PROXY: proxyUrl } });
  const direct = createAwsClients({ ...base, proxyEnv: {} });
  try {
    await viaProxy.sqs.send(new ListQueuesCommand({}));
    expect(hits).toBe(1);
    await direct.sqs.send(new ListQueuesCommand({}));
    expect(hits).toBe(1);
  } finally {
    viaProxy.destroy();
    direct.destroy();
  }
});
