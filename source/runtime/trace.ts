/**
 * Phase timings for `GANTRY_TRACE=1 gantry ...`: where a command spends its time, on stderr.
 * Costs one environment lookup when off.
 *
 * The same phase names make faults reproducible: `GANTRY_TRACE_STOP=LABEL` stops the process
 * (SIGSTOP) when it reaches that phase, so a test can kill it there for certain instead of
 * guessing with a timer, and see it waiting in /proc/PID/stat (state T).
 */
const enabled = process.env.GANTRY_TRACE === '1';
const stopAt = process.env.GANTRY_TRACE_STOP;
// Only the process it was given to stops: not the monitors and cleanup commands it starts.
delete process.env.GANTRY_TRACE_STOP;
let last = performance.now();

export function trace(label: string): void {
  if (stopAt !== undefined && stopAt === label) {
    process.stderr.write(`[gantry] stopped at ${label} (GANTRY_TRACE_STOP)\n`);
    process.kill(process.pid, 'SIGSTOP');
  }
  if (!enabled) return;
  const now = performance.now();
  process.stderr.write(
    `[gantry ${now.toFixed(1).padStart(7)} ms +${(now - last).toFixed(1).padStart(5)}] ${label}\n`,
  );
  last = now;
}
