export {
  type BondChange,
  type BondGraph,
  bondGraphOfSdf,
  compareBondGraphs,
  describeBondChange,
  ringCount,
  type StructureChange,
} from "./bond-graph.ts";
export { type ComputeIpOptions, computeIp, type IpMethod, type IpResult } from "./compute-ip.ts";
export { type SdfSummary, summarizeSdf } from "./sdf.ts";
export { HARTREE_TO_EV, parseTotalEnergyHartree, parseVipEv } from "./xtb.ts";
