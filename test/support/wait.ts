/** Waiting on a condition instead of a fixed delay, so a test holds on a busy machine too. */

/** Polls `condition` every `intervalMs` until it holds; fails naming `what` once `timeoutMs` has passed. */
export async function waitFor(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 60_000, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
