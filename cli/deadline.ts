/**
 * The work's value, or "timeout" once `ms` pass first. The work is not stopped: a command that
 * gives up waiting says what is left and exits; its timer is cleared either way, so a finished
 * command does not wait for it.
 */
export async function withinDeadline<T>(work: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
