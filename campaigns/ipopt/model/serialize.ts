import { ProtocolError } from "#core/errors.ts";
import type { SurrogateMember, SurrogateModel } from "./ensemble.ts";

/** The model with its typed arrays as base64 strings: plain JSON, about 1.4x the binary size. */
export interface SurrogateModelJson {
  kind: "tanimoto-gp-ensemble";
  version: 1;
  /** `counts` is absent in models written before count fingerprints (plain bits). */
  fingerprint: Omit<SurrogateModel["fingerprint"], "counts"> & { counts?: boolean };
  smiles: string[];
  words: string;
  popcounts: string;
  members: {
    rows: string;
    alpha: string;
    meanEv: number;
    signalVariance: number;
    noiseVariance: number;
  }[];
}

export function modelToJson(model: SurrogateModel): SurrogateModelJson {
  return {
    kind: model.kind,
    version: model.version,
    fingerprint: model.fingerprint,
    smiles: model.smiles,
    words: toBase64(model.words),
    popcounts: toBase64(model.popcounts),
    members: model.members.map((m) => ({
      rows: toBase64(m.rows),
      alpha: toBase64(m.alpha),
      meanEv: m.meanEv,
      signalVariance: m.signalVariance,
      noiseVariance: m.noiseVariance,
    })),
  };
}

/** Accepts the JSON form, or the model itself (typed arrays survive msgpack), and checks it. */
export function modelFromJson(input: SurrogateModelJson | SurrogateModel): SurrogateModel {
  if (input?.kind !== "tanimoto-gp-ensemble" || input.version !== 1) {
    throw new ProtocolError("not a tanimoto-gp-ensemble surrogate model (version 1)");
  }
  const words = typedArray(input.words, Uint32Array);
  const popcounts = typedArray(input.popcounts, Uint16Array);
  const perRow = input.fingerprint.nBits / 32;
  const count = input.smiles.length;
  if (words.length !== count * perRow || popcounts.length !== count) {
    throw new ProtocolError("surrogate model fingerprints do not match its molecules");
  }
  const members: SurrogateMember[] = input.members.map((m) => {
    const rows = typedArray(m.rows, Uint32Array);
    const alpha = typedArray(m.alpha, Float64Array);
    if (rows.length !== alpha.length || rows.some((row) => row >= count)) {
      throw new ProtocolError("surrogate model member does not match its training set");
    }
    return {
      rows,
      alpha,
      meanEv: m.meanEv,
      signalVariance: m.signalVariance,
      noiseVariance: m.noiseVariance,
    };
  });
  // Models written before count fingerprints carry no `counts`: they were fit on plain bits.
  const fingerprint = { ...input.fingerprint, counts: input.fingerprint.counts ?? false };
  return { ...input, fingerprint, words, popcounts, members };
}

type TypedArray = Uint32Array | Uint16Array | Float64Array;
type TypedArrayClass<T extends TypedArray> = {
  new (buffer: ArrayBuffer, offset: number, length: number): T;
  from(values: ArrayLike<number>): T;
  BYTES_PER_ELEMENT: number;
};

function toBase64(array: TypedArray): string {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString("base64");
}

function typedArray<T extends TypedArray>(value: unknown, kind: TypedArrayClass<T>): T {
  if (typeof value === "string") {
    const bytes = Buffer.from(value, "base64");
    // Copy into a fresh, aligned buffer: Buffer's pool offset may not be a multiple of 8.
    const copy = new ArrayBuffer(bytes.byteLength);
    new Uint8Array(copy).set(bytes);
    return new kind(copy, 0, bytes.byteLength / kind.BYTES_PER_ELEMENT);
  }
  if (ArrayBuffer.isView(value) || Array.isArray(value))
    return kind.from(value as ArrayLike<number>);
  throw new ProtocolError("surrogate model field is neither base64 nor an array");
}
