import { fileURLToPath } from "node:url";
import {
  bundleFunction,
  type RegisterNodeFunctionDeps,
  registerNodeFunction,
  registerShellFunction,
  shellFunctionSha256,
} from "#sdk/index.ts";
import { type MlBackendName, MPNN_FUNCTION_NAMES, mpnnArgv } from "../mpnn/index.ts";
import { FUNCTION_NAMES } from "./campaign.ts";

const entry = (name: string) => fileURLToPath(new URL(`../functions/${name}.ts`, import.meta.url));

export interface RegisterCampaignOptions {
  /** Which train/infer functions to register. @default "gp" */
  mlBackend?: MlBackendName;
  /** The interpreter the MPNN's shell functions run on the ML endpoint. @default "python3" */
  mlPython?: string;
}

/**
 * Register simulate and the backend's train and infer unless the registry already has these
 * exact versions (bundles for Node functions, argv for the MPNN's shell functions).
 */
export async function registerCampaignFunctions(
  deps: RegisterNodeFunctionDeps,
  options: RegisterCampaignOptions = {},
): Promise<string[]> {
  const { mlBackend = "gp", mlPython = "python3" } = options;
  const registered: string[] = [];
  const known = (name: string, sha256: string) =>
    deps.control
      .call("getFunction", { name, sha256 })
      .then(() => true)
      .catch(() => false);
  const node = Object.entries(FUNCTION_NAMES).filter(
    ([file]) => mlBackend === "gp" || file === "simulate",
  );
  for (const [file, name] of node) {
    const bundle = await bundleFunction(entry(file));
    if (await known(name, bundle.sha256)) continue;
    await registerNodeFunction(deps, entry(file), name, `ipopt campaign: ${file}`, bundle);
    registered.push(name);
  }
  if (mlBackend === "mpnn") {
    for (const [fn, name] of Object.entries(MPNN_FUNCTION_NAMES)) {
      const argv = mpnnArgv(mlPython, fn as keyof typeof MPNN_FUNCTION_NAMES);
      if (await known(name, shellFunctionSha256(argv))) continue;
      await registerShellFunction(deps, argv, name, `ipopt campaign: MPNN ${fn} (PyTorch)`);
      registered.push(name);
    }
  }
  return registered;
}
