import { setTimeout as delay } from "node:timers/promises";

/**
 * Polls `condition` every few milliseconds until it holds, failing after `timeout` ms. For
 * state that has no event to await (a server's connection counter); the deadline keeps a
 * test that would hang failing loudly instead.
 */
export async function waitUntil(
  condition: () => boolean,
  what: string,
  timeout = 5000,
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await delay(5);
  }
}
