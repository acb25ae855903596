import { v7 as uuidv7 } from "uuid";
import { RefusedError } from "../errors.ts";
import { keyPrefixes } from "../names.ts";
import type { Codec } from "./codec.ts";

const MAX_LOCATION_CHARS = 1024;
/**
 * A segment starts with a letter or digit: no `.`, `..` or hidden temp files. `:`, `@`, `=`,
 * `,` and `+` may follow: an owner's segment is its IAM user id (`AROA...:session-name`).
 */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._:@=,+-]*$/;
const ROOTS = new Set([keyPrefixes.store.slice(0, -1), keyPrefixes.temporary.slice(0, -1)]);

/**
 * A fresh location for an object: `store/<uuidv7>.<codec>`, or under `tmp/` for temporary
 * objects (evicted after their last reader; the bucket lifecycle removes leftovers). With an
 * owner (a client's IAM user id), under `<root>/<owner>/`: the client policy lets each client
 * reach only its own objects there.
 */
export function newLocation(codec: Codec, temporary: boolean, owner?: string): string {
  const prefix = temporary ? keyPrefixes.temporary : keyPrefixes.store;
  const own = owner === undefined ? "" : `${ownerSegment(owner)}/`;
  return `${prefix}${own}${uuidv7()}.${codec}`;
}

/**
 * Where a running task's output is published (LiveLogRecord): under its owner's part of `tmp/`,
 * the one place the client policy lets that owner read and agents write; the bucket's
 * lifecycle rule for `tmp/` removes it. One key per task, overwritten while the task runs.
 */
export function liveLogLocation(owner: string, sessionId: string, taskId: string): string {
  return `${keyPrefixes.temporary}${ownerSegment(owner)}/logs/${sessionId}/${taskId}.json`;
}

/** An owner id as one location segment; refused when it could not be one. */
export function ownerSegment(owner: string): string {
  if (!SEGMENT.test(owner) || owner.length > 256) {
    throw new RefusedError(`object owner ${JSON.stringify(owner)} cannot name a store location`, {
      hint: "owners are IAM user ids, as the registration function records them",
    });
  }
  return owner;
}

/**
 * Refuse a location outside `owner`'s part of the store (`<root>/<owner>/...`; without an owner,
 * directly under the root). For backends without per-principal access control (redis), where
 * the agent is what stands between one session's task and another principal's objects.
 */
export function checkOwnedBy(location: string, owner: string | undefined): void {
  const segments = checkLocation(location);
  const owned = owner === undefined ? segments.length === 2 : segments[1] === owner;
  if (!owned || (owner !== undefined && segments.length !== 3)) {
    throw new RefusedError(
      `store location ${JSON.stringify(location)} refused: it is not in this session owner's part of the store`,
      { context: { location }, hint: "a task may only name objects its own session stored" },
    );
  }
}

/** Whether a location is under the temporary prefix. */
export function isTemporaryLocation(location: string): boolean {
  return location.startsWith(keyPrefixes.temporary);
}

/**
 * Check a location taken from a message (untrusted) before any store touches it, and return
 * its segments. Refuses anything that could reach outside `store/` and `tmp/`: in S3 the
 * registry and function bundles, on a shared filesystem anything at all.
 */
export function checkLocation(location: string): string[] {
  const refuse = (why: string) =>
    new RefusedError(`store location ${JSON.stringify(location)} refused: ${why}`, {
      context: { location },
      hint: "store locations come from Ferry itself; a message carrying this one is malformed or hostile",
    });
  if (location.length > MAX_LOCATION_CHARS) throw refuse(`longer than ${MAX_LOCATION_CHARS}`);
  if (location.includes("\0")) throw refuse("it contains a NUL byte");
  if (location.startsWith("/") || /^[A-Za-z]:/.test(location)) {
    throw refuse("it is an absolute path, which escapes the store");
  }
  if (location.includes("\\")) throw refuse("it contains a backslash");
  const segments = location.split("/");
  if (segments.includes("..")) throw refuse("a '..' segment escapes the store");
  const [root] = segments;
  if (segments.length < 2 || root === undefined || !ROOTS.has(root)) {
    throw refuse(`it is not under ${keyPrefixes.store} or ${keyPrefixes.temporary}`);
  }
  const bad = segments.find((segment) => !SEGMENT.test(segment));
  if (bad !== undefined) {
    throw refuse(`segment ${JSON.stringify(bad)} is not letters, digits, '.', '_' and '-'`);
  }
  return segments;
}
