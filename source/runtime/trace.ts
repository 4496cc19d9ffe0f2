/**
 * Phase timings for `GANTRY_TRACE=1 gantry ...`: where a command spends its time, on stderr.
 * `GANTRY_TRACE_STOP=LABEL[@N]` makes the process stop itself (SIGSTOP) when it reaches the
 * N-th phase whose label starts with LABEL, so a fault test (or a debugger) can kill or inspect
 * it at exactly that point. Costs two environment lookups when off.
 */
const enabled = process.env.GANTRY_TRACE === '1';
const stopAt = parseStop(process.env.GANTRY_TRACE_STOP);
// Processes this one starts (the monitor's cleanup command among them) must not stop there too.
delete process.env.GANTRY_TRACE_STOP;
let last = performance.now();
let seen = 0;

function parseStop(value: string | undefined): { label: string; occurrence: number } | undefined {
  if (!value) return undefined;
  const match = /^(.*)@(\d+)$/.exec(value);
  return match ? { label: match[1]!, occurrence: Number(match[2]) } : { label: value, occurrence: 1 };
}

export function trace(label: string): void {
  if (enabled) {
    const now = performance.now();
    process.stderr.write(
      `[gantry ${now.toFixed(1).padStart(7)} ms +${(now - last).toFixed(1).padStart(5)}] ${label}\n`,
    );
    last = now;
  }
  if (stopAt && label.startsWith(stopAt.label) && ++seen === stopAt.occurrence)
    process.kill(process.pid, 'SIGSTOP');
}
