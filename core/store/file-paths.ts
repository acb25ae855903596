import { realpath } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { RefusedError } from "../errors.ts";
import { checkLocation } from "./keys.ts";

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!isAbsolute(rel) && rel.split(sep)[0] !== "..");
}

function escapeError(location: string, how: string): RefusedError {
  return new RefusedError(`store location ${JSON.stringify(location)} refused: ${how}`, {
    context: { location },
    hint: "keys of the file store can never leave its directory",
  });
}

/**
 * The real path of `location` inside the store directory `rootReal` (itself a real path).
 * Besides the lexical checks, the parent directory is resolved through any symbolic links and
 * must still be inside the root; the last component is opened with O_NOFOLLOW by the caller.
 * A parent that does not exist yet is returned as is (reads then find nothing; writes create
 * it and call again).
 */
export async function resolveInside(rootReal: string, location: string): Promise<string> {
  const segments = checkLocation(location);
  const path = resolve(rootReal, ...segments);
  // Lexical check again after resolve: cheap defence if checkLocation ever loosens.
  if (!isInside(rootReal, path) || path === rootReal) {
    throw escapeError(location, "it resolves outside the store directory");
  }
  let parentReal: string;
  try {
    parentReal = await realpath(dirname(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return path;
    throw error;
  }
  if (!isInside(rootReal, parentReal)) {
    throw escapeError(
      location,
      `a symbolic link leads outside the store directory (${parentReal})`,
    );
  }
  return join(parentReal, basename(path));
}
