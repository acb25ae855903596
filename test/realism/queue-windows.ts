import type { RealismFaults } from "./faults.ts";

/** The answers the windows give instead of forwarding. */
export type QueueRule = "queueNotYetVisible" | "queueDeletedRecently";

/**
 * SQS's documented eventual-consistency windows, which emulators skip: a new queue may answer
 * QueueDoesNotExist for about a second, and a deleted queue's name cannot be reused for 60 s.
 * The state is the proxy's memory of what passed through it, keyed by queue name.
 */
export class QueueWindows {
  /** Name -> when a CreateQueue for it came back from upstream. */
  readonly #created = new Map<string, number>();
  /** Name -> when a DeleteQueue for it was accepted. */
  readonly #deleted = new Map<string, number>();

  /** The rule AWS would apply to this request before acting on it, if any. */
  check(
    faults: RealismFaults,
    operation: string,
    name: string | undefined,
    now: number,
  ): QueueRule | undefined {
    if (name === undefined) return undefined;
    if (operation === "CreateQueue") {
      const deletedAt = this.#deleted.get(name);
      const window = faults.deletedQueueWindowMs ?? 0;
      if (deletedAt !== undefined && now - deletedAt < window) return "queueDeletedRecently";
      return undefined;
    }
    const createdAt = this.#created.get(name);
    const delay = faults.newQueueDelayMs ?? 0;
    if (createdAt !== undefined && now - createdAt < delay) return "queueNotYetVisible";
    return undefined;
  }

  /** Called when upstream said yes (2xx), whether or not the client got to hear it. */
  succeeded(operation: string, name: string | undefined, now: number): void {
    if (name === undefined) return;
    if (operation === "CreateQueue") {
      // A repeated CreateQueue of a queue this proxy saw created is idempotent on AWS: it does
      // not restart the window. (One created before the proxy started does, harmlessly.)
      if (!this.#created.has(name)) this.#created.set(name, now);
      this.#deleted.delete(name);
    } else if (operation === "DeleteQueue") {
      this.#created.delete(name);
      this.#deleted.set(name, now);
    }
  }
}
