import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { ProtocolError } from "#core/errors.ts";
import { newTaskId } from "#core/ids.ts";
import { parseJsonWith, ResultMessage, TaskMessage } from "#core/protocol/index.ts";
import {
  applyMutations,
  FuzzCounter,
  fuzzRuns,
  mutationsOf,
  textMutationsOf,
} from "../helpers/fuzz.ts";

const runs = fuzzRuns();
const counter = new FuzzCounter();
afterAll(() => console.log(counter.report("fuzz-protocol")));

const task = {
  v: 1,
  taskId: newTaskId(),
  sessionId: newTaskId(),
  endpointId: newTaskId(),
  function: { name: "simulate", sha256: "a".repeat(64) },
  topic: "simulate",
  args: { inline: { smiles: "CCO", n: [1, 2] } },
  replyTo: "http://127.0.0.1:1/000000000000/ferry-results-x",
  walltimeSeconds: 60,
  maxAttempts: 3,
  resources: { cpus: 1, gpus: 0 },
  created: 1,
  sent: 2,
};

const result = {
  v: 1,
  taskId: newTaskId(),
  sessionId: newTaskId(),
  topic: "simulate",
  attempt: 1,
  ok: true,
  value: {
    ref: { store: "s3", location: "tmp/x.json", size: 3, sha256: "b".repeat(64), codec: "json" },
  },
  timings: { created: 1, sent: 2, received: 3, resultSent: 4 },
  worker: { endpointId: newTaskId(), host: "h", pid: 1 },
  stdoutTail: "out",
};

/** Parse untrusted text: either a valid message, or a ProtocolError naming what is wrong. */
function checkParse(schema: typeof TaskMessage | typeof ResultMessage, what: string, text: string) {
  try {
    const parsed = parseJsonWith(schema, text, what);
    // Whatever passes is a message the schema accepts as is.
    expect(schema.safeParse(parsed).success).toBe(true);
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    const message = (error as Error).message;
    expect(message.startsWith(`${what}: `)).toBe(true);
    // One line, naming a field (path) or saying the JSON itself is bad.
    expect(message).not.toContain("\n");
    expect(message.length).toBeGreaterThan(what.length + 2);
  }
}

function stringifyOrUndefined(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

describe.each([
  ["task message", TaskMessage, task],
  ["result message", ResultMessage, result],
] as const)("fuzzed %s", (what, schema, valid) => {
  it("mutated fields: parsed, or refused with a ProtocolError naming the field", () => {
    fc.assert(
      fc.property(mutationsOf(valid), (mutations) => {
        counter.count(what);
        // A message on the wire is text: a mutation JSON cannot write (a cycle) never reaches
        // a parser, so there is nothing to check for it.
        const text = stringifyOrUndefined(applyMutations(valid, mutations));
        if (text !== undefined) checkParse(schema, what, text);
      }),
      { numRuns: runs },
    );
  });

  it("mutated text: truncated, spliced or foreign JSON never crashes the parser", () => {
    fc.assert(
      fc.property(textMutationsOf(JSON.stringify(valid)), (text) => {
        counter.count(what);
        checkParse(schema, what, text);
      }),
      { numRuns: runs },
    );
  });

  it("a single bad field is named in the error", () => {
    const bad = { ...valid, taskId: "not-a-uuid" };
    expect(() => parseJsonWith(schema, JSON.stringify(bad), what)).toThrow(/: taskId: /);
  });
});
