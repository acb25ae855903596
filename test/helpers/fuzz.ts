import fc from "fast-check";

/**
 * Runs per property: FERRY_FUZZ_RUNS (the full campaign uses 10,000 and more), else a CI size
 * that keeps the unit suite quick.
 */
export function fuzzRuns(ciDefault = 1_000): number {
  const fromEnv = Number(process.env.FERRY_FUZZ_RUNS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : ciDefault;
}

/** Totals per parser, printed at the end of each fuzz file so a run reports what it tried. */
export class FuzzCounter {
  readonly #counts = new Map<string, number>();

  count(parser: string): void {
    this.#counts.set(parser, (this.#counts.get(parser) ?? 0) + 1);
  }

  report(file: string): string {
    const total = [...this.#counts.values()].reduce((a, b) => a + b, 0);
    const parts = [...this.#counts].map(([p, n]) => `${p} ${n}`).join(", ");
    return `${file}: ${total} fuzzed inputs (${parts})`;
  }
}

type Json = unknown;

/** Names that try path traversal, injection or odd characters. */
export const hostileName = fc.constantFrom(
  "../etc/passwd",
  "..",
  ".",
  "a/../../b",
  "/abs",
  "C:\\windows",
  "x; rm -rf /",
  "$(touch /tmp/x)",
  "`id`",
  "a\u0000b",
  "name with space",
  "-leading-dash",
  "_leading",
  "é",
  "x".repeat(65),
  "",
  "a\nb",
  "%2e%2e%2f",
  "registry/endpoints/x",
);

/** A JSON value to drop into a message: any JSON, or a hostile string. */
export const anyValue: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  hostileName,
  fc.constantFrom(null, -1, 0, 1e308, Number.MAX_SAFE_INTEGER + 2, "", [], {}, true),
);

/** One mutation of a JSON object: a field removed, replaced, retyped, or a new one added. */
export interface Mutation {
  path: string[];
  kind: "delete" | "set";
  value: Json;
}

/** Paths of every field in `value`, nested ones too. */
export function pathsOf(value: Json, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== "object") return [];
  const out: string[][] = [];
  for (const [key, child] of Object.entries(value as Record<string, Json>)) {
    const path = [...prefix, key];
    out.push(path, ...pathsOf(child, path));
  }
  return out;
}

/** Mutations of a valid message, 1 to 3 at a time, at paths it has (or new keys). */
export function mutationsOf(valid: Json): fc.Arbitrary<Mutation[]> {
  const paths = pathsOf(valid);
  const path = fc.oneof(
    fc.constantFrom(...paths),
    fc.tuple(fc.constantFrom(...paths), fc.string({ maxLength: 8 })).map(([p, k]) => [...p, k]),
  );
  const mutation = fc.record({
    path,
    kind: fc.constantFrom<"delete" | "set">("delete", "set"),
    value: anyValue,
  });
  return fc.array(mutation, { minLength: 1, maxLength: 3 });
}

/** A deep copy of `valid` with the mutations applied. */
export function applyMutations(valid: Json, mutations: Mutation[]): Json {
  const copy = structuredClone(valid) as Record<string, Json>;
  for (const m of mutations) {
    let node: Json = copy;
    for (const key of m.path.slice(0, -1)) {
      if (node === null || typeof node !== "object") break;
      node = (node as Record<string, Json>)[key];
    }
    const last = m.path.at(-1);
    if (node === null || typeof node !== "object" || last === undefined) continue;
    if (m.kind === "delete") delete (node as Record<string, Json>)[last];
    else (node as Record<string, Json>)[last] = m.value;
  }
  return copy;
}

/** Text around a valid JSON body: truncated, with bytes inserted, or not JSON at all. */
export function textMutationsOf(valid: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.nat({ max: valid.length }).map((n) => valid.slice(0, n)),
    fc
      .tuple(fc.nat({ max: valid.length }), fc.string({ minLength: 1, maxLength: 4 }))
      .map(([n, s]) => valid.slice(0, n) + s + valid.slice(n)),
    fc.string({ maxLength: 200 }),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? "null"),
    fc.constantFrom("", "null", "[]", "{}", '""', "1e999", '{"__proto__":{"v":1}}'),
  );
}
