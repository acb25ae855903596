import { createRequire } from "node:module";
import { type AwsClientOptions, type AwsClients, clientConfigs } from "./client-config.ts";

type Sdk = {
  sqs: typeof import("@aws-sdk/client-sqs");
  s3: typeof import("@aws-sdk/client-s3");
  lambda: typeof import("@aws-sdk/client-lambda");
};

/**
 * The three clients for a command line (core/connect.ts), each built, and its SDK package
 * loaded, on first use: `ferry endpoint list` only calls the control plane and never loads
 * the S3 or SQS package, about a third of its start-up. The packages are CommonJS (no
 * "exports": `import` resolves to the same dist-cjs), so this require gives the very modules a
 * static import elsewhere would. Not for bundles that inline the SDK (the registration
 * function uses createAwsClients).
 */
export function createLazyAwsClients(options: AwsClientOptions): AwsClients {
  const config = clientConfigs(options);
  const built: Partial<AwsClients> = {};
  return {
    get sqs() {
      built.sqs ??= new (load<Sdk["sqs"]>("@aws-sdk/client-sqs").SQSClient)(config.sqs);
      return built.sqs;
    },
    get s3() {
      built.s3 ??= new (load<Sdk["s3"]>("@aws-sdk/client-s3").S3Client)(config.s3);
      return built.s3;
    },
    get lambda() {
      built.lambda ??= new (load<Sdk["lambda"]>("@aws-sdk/client-lambda").LambdaClient)(
        config.lambda,
      );
      return built.lambda;
    },
    destroy() {
      built.sqs?.destroy();
      built.s3?.destroy();
      built.lambda?.destroy();
    },
  };
}

const load = createRequire(import.meta.url) as <T>(id: string) => T;
