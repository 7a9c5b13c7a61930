/** Waiting on a condition instead of a fixed delay, so a test holds on a busy machine too. */

/** Polls `condition` until it holds; fails naming `what` when `timeoutMs` passes first. */
export async function waitFor(what: string, timeoutMs: number, condition: () => Promise<boolean> | boolean, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
