import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
/** Ferry's version from package.json; heartbeats and results carry it. */
export const FERRY_VERSION: string = (require("../package.json") as { version: string }).version;
