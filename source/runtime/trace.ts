/**
 * Phase timings for `GANTRY_TRACE=1 gantry ...`: where a command spends its time, on stderr.
 * Costs one environment lookup when off.
 */
const enabled = process.env.GANTRY_TRACE === '1';
let last = performance.now();

export function trace(label: string): void {
  if (!enabled) return;
  const now = performance.now();
  process.stderr.write(
    `[gantry ${now.toFixed(1).padStart(7)} ms +${(now - last).toFixed(1).padStart(5)}] ${label}\n`,
  );
  last = now;
}
