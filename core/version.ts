// An import, not a read at run time: the SDK's bundle (scripts/build-sdk.ts) inlines it.
import pkg from "../package.json" with { type: "json" };

/** Ferry's version from package.json; heartbeats and results carry it. */
export const FERRY_VERSION: string = pkg.version;
