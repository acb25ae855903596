export { awsOptionsFor } from "./connect.ts";
export {
  type Deployment,
  deploymentFromOutputs,
  NO_DEPLOYMENT_HINT,
  readDeployment,
  StackOutputs,
} from "./deployment.ts";
export { type FerryEnv, LOCAL_BACKENDS, type LocalBackendName, loadEnv } from "./env.ts";
