import { v7 as uuidv7 } from "uuid";

/** Task and session ids are UUIDv7: time-ordered, so listings sort by creation. */
export function newTaskId(): string {
  return uuidv7();
}

export function newSessionId(): string {
  return uuidv7();
}

export function newEndpointId(): string {
  return uuidv7();
}
