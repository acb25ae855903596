import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { FERRY_LOGICAL_IDS, FerryStack, type FerryStackProps } from "./ferry-stack.ts";

/** Stack name used by `cdk deploy` and by local provisioning unless told otherwise. */
export const DEFAULT_STACK_NAME = "Ferry";

export interface SynthOptions {
  /** Directory of the cloud assembly (template and bundled assets). */
  outdir: string;
  /** @default "Ferry" (DEFAULT_STACK_NAME) */
  stackName?: string;
  /** @default "ferry-" (DEFAULT_QUEUE_PREFIX) */
  queuePrefix?: string;
}

export interface SynthResult {
  /** Absolute path of the CloudFormation template JSON. */
  templatePath: string;
  template: object;
  /** Absolute path of the cloud assembly; asset paths in the template are relative to it. */
  assemblyDir: string;
  /** Absolute path of the registration Lambda's bundled handler (`.../asset.<hash>/index.mjs`). */
  registrationBundlePath: string;
}

/**
 * Synthesize FerryStack in-process, without the cdk CLI, so the local emulator is provisioned
 * from the same template (and runs the same Lambda bundle) as a real deployment.
 */
export function synthFerryTemplate(options: SynthOptions): SynthResult {
  const app = new App({
    outdir: options.outdir,
    // The CLI sets this context itself; without it the template would not name asset paths.
    context: { "aws:cdk:enable-asset-metadata": true },
    analyticsReporting: false,
  });
  const props: FerryStackProps = options.queuePrefix ? { queuePrefix: options.queuePrefix } : {};
  const stack = new FerryStack(app, options.stackName ?? DEFAULT_STACK_NAME, props);
  const assembly = app.synth();
  const artifact = assembly.getStackByName(stack.stackName);
  const template = artifact.template as object;
  return {
    templatePath: join(assembly.directory, artifact.templateFile),
    template,
    assemblyDir: assembly.directory,
    registrationBundlePath: findRegistrationBundle(template, assembly.directory),
  };
}

/**
 * Path of the registration handler bundle in a cloud assembly (from `synthFerryTemplate` or
 * `cdk synth`): the function resource's `aws:asset:path` metadata names the asset directory,
 * and NodejsFunction writes ESM output as `index.mjs` there (Lambda handler `index.handler`).
 */
export function findRegistrationBundle(template: object, assemblyDir: string): string {
  const resources = (template as { Resources?: Record<string, { Metadata?: unknown }> }).Resources;
  const metadata = resources?.[FERRY_LOGICAL_IDS.registrationFunction]?.Metadata as
    | Record<string, unknown>
    | undefined;
  const assetPath = metadata?.["aws:asset:path"];
  if (typeof assetPath !== "string") {
    throw new Error(
      `template has no asset path for ${FERRY_LOGICAL_IDS.registrationFunction}: synthesize with context aws:cdk:enable-asset-metadata=true`,
    );
  }
  return join(assemblyDir, assetPath, "index.mjs");
}
