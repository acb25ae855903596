import type { ControlClient } from "#core/control/index.ts";
import { ConfigError, NotFoundError } from "#core/errors.ts";
import { Uuid } from "#core/protocol/index.ts";

/** Accept an endpoint's UUID or its registered name. */
export async function resolveEndpointId(
  control: Pick<ControlClient, "call">,
  idOrName: string,
): Promise<string> {
  if (Uuid.safeParse(idOrName).success) return idOrName;
  const { endpoints } = await control.call("listEndpoints", {});
  const matches = endpoints.filter((e) => e.endpoint.name === idOrName);
  if (matches.length === 1 && matches[0]) return matches[0].endpoint.endpointId;
  if (matches.length === 0) {
    throw new NotFoundError(`no endpoint named ${idOrName}`, {
      hint: "see `ferry endpoint list`, or register one with `ferry endpoint register <name>`",
    });
  }
  throw new ConfigError(`several endpoints are named ${idOrName}`, {
    hint: "give its UUID instead",
  });
}

/** Parse a JSON argument given on the command line, with an error that says which option. */
export function parseJsonOption(text: string, option: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ConfigError(`${option} is not valid JSON: ${text.slice(0, 80)}`, {
      hint: `quote it for the shell, e.g. ${option} '{"x": 1}'`,
    });
  }
}
