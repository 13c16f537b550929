// Time bounds for tests: every await in an e2e test goes through one of these, so a hung
// pen, backend or client fails the test with a message instead of hanging the run.
// PEN_TEST_TIME_SCALE (default 1) stretches these bounds (not what tests assert about time):
// the sanitizer run (scripts/test-asan.js) sets it, its pen being several times slower.

export const TIME_SCALE = Math.max(1, Number(process.env.PEN_TEST_TIME_SCALE ?? 1) || 1);

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves like `p`, or rejects with "timed out after N ms: what" once `ms` have passed. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  ms *= TIME_SCALE;
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/** Polls `check` every `everyMs` until it returns a truthy value (returned), or throws after `ms`. */
export async function waitFor<T>(check: () => T | Promise<T>, ms: number, what: string,
  everyMs = 20): Promise<NonNullable<T>> {
  ms *= TIME_SCALE;
  const deadline = performance.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (performance.now() >= deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** True if `p` settles within `ms` (either way); false if it is still pending. */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const pending = Symbol('pending');
  const r = await Promise.race([
    p.then(() => true, () => true),
    new Promise<typeof pending>((resolve) => { timer = setTimeout(() => resolve(pending), ms); }),
  ]);
  clearTimeout(timer);
  return r !== pending;
}
