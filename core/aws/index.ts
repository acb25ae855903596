export {
  type AwsClientOptions,
  type AwsClients,
  createAwsClients,
  EMULATOR_CREDENTIALS,
} from "./clients.ts";
