import { App } from "aws-cdk-lib";
import { FerryStack, type FerryStackProps } from "./ferry-stack.ts";
import { DEFAULT_STACK_NAME } from "./synth.ts";

// The CDK app run by `npx cdk synth|deploy` (cdk.json). Options come from context:
// `npx cdk deploy -c stackName=Ferry2 -c maxReceiveCount=3 -c registrationReservedConcurrency=20`
// (a second stack's queue prefix follows its name unless -c queuePrefix=... says otherwise).
const app = new App();

function numberContext(key: string): number | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`context ${key} must be a number, got "${value}"`);
  return n;
}

const stackName: string =
  app.node.tryGetContext("stackName") ?? process.env.FERRY_STACK ?? DEFAULT_STACK_NAME;
const queuePrefix: unknown = app.node.tryGetContext("queuePrefix");
const maxReceiveCount = numberContext("maxReceiveCount");
const temporaryObjectExpiryDays = numberContext("temporaryObjectExpiryDays");
const parkedResultExpiryDays = numberContext("parkedResultExpiryDays");
const registrationReservedConcurrency = numberContext("registrationReservedConcurrency");
const props: FerryStackProps = {
  description: "Ferry: a federation of compute endpoints (queues, store, control plane)",
  ...(typeof queuePrefix === "string" ? { queuePrefix } : {}),
  ...(maxReceiveCount === undefined ? {} : { maxReceiveCount }),
  ...(temporaryObjectExpiryDays === undefined ? {} : { temporaryObjectExpiryDays }),
  ...(parkedResultExpiryDays === undefined ? {} : { parkedResultExpiryDays }),
  ...(registrationReservedConcurrency === undefined ? {} : { registrationReservedConcurrency }),
};
new FerryStack(app, stackName, props);
app.synth();
