// wrk 4's text report, read: the one reader of it for the bench (workloads.ts, tls.ts) and for
// the tests' wrk helper (test/helpers/wrk.ts).

/** Milliseconds per unit of the times wrk prints. */
const UNIT_MS: Record<string, number> = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

/** A time as wrk prints it ("36.96ms", "10.05m") in milliseconds; NaN for anything else. */
export function wrkTimeMs(value: string, unit: string): number {
  return Number(value) * (UNIT_MS[unit] ?? NaN);
}

/** The summary line "N requests in T, ...": N and T in seconds; null when it is missing. */
export function wrkSummary(out: string): { requests: number; seconds: number } | null {
  const m = /(\d+) requests in ([\d.]+)(us|ms|s|m|h),/.exec(out);
  return m ? { requests: Number(m[1]), seconds: wrkTimeMs(m[2]!, m[3]!) / 1e3 } : null;
}

/** The "Socket errors" line as counts; all 0 when wrk printed none. */
export function wrkSocketErrors(out: string): { connect: number; read: number; write: number; timeout: number } {
  const m = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const n = (i: number): number => (m ? Number(m[i]) : 0);
  return { connect: n(1), read: n(2), write: n(3), timeout: n(4) };
}
