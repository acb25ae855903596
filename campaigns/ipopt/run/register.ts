import { fileURLToPath } from "node:url";
import {
  bundleFunction,
  type RegisterNodeFunctionDeps,
  registerNodeFunction,
} from "#cli/functions/register.ts";
import { FUNCTION_NAMES } from "./campaign.ts";

const entry = (name: string) => fileURLToPath(new URL(`../functions/${name}.ts`, import.meta.url));

/** Register simulate, train and infer unless the registry already has these exact bundles. */
export async function registerCampaignFunctions(deps: RegisterNodeFunctionDeps): Promise<string[]> {
  const registered: string[] = [];
  for (const [file, name] of Object.entries(FUNCTION_NAMES)) {
    const { sha256 } = await bundleFunction(entry(file));
    const known = await deps.control
      .call("getFunction", { name, sha256 })
      .then(() => true)
      .catch(() => false);
    if (known) continue;
    await registerNodeFunction(deps, entry(file), name, `ipopt campaign: ${file}`);
    registered.push(name);
  }
  return registered;
}
