export { type AccessPolicyTargets, createAccessPolicies } from "./access-policies.ts";
export {
  ESM_REQUIRE_BANNER,
  FERRY_LOGICAL_IDS,
  FerryStack,
  type FerryStackProps,
  REGISTRATION_ENTRY,
} from "./ferry-stack.ts";
export {
  DEFAULT_STACK_NAME,
  findRegistrationBundle,
  type SynthOptions,
  type SynthResult,
  synthFerryTemplate,
} from "./synth.ts";
