import { setTimeout as delay } from 'node:timers/promises';

/**
 * Resolves once `check()` returns true, asking again every `pollMs`; rejects naming `what` (and
 * the last state `describe()` gives, if any) after `timeoutMs`. For tests that wait for a server,
 * a watcher or a timer to act: the bound is far above the time the thing takes, so a loaded
 * machine only makes the wait longer, never the test fail.
 */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  options: { timeoutMs?: number; pollMs?: number; describe?: () => string | Promise<string> } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (!(await check())) {
    if (Date.now() > deadline) {
      const state = options.describe ? `; last state: ${await options.describe()}` : '';
      throw new Error(`timed out waiting for ${what}${state}`);
    }
    await delay(options.pollMs ?? 20);
  }
}
