/** Signal names and numbers: "SIGKILL", "KILL", "kill" and "9" all name signal 9. */
import { constants } from 'node:os';
import { InvalidArgumentError } from './errors.js';

const SIGNALS = constants.signals as Record<string, number>;

export function parseSignal(value: string | number): number {
  if (typeof value === 'number' || /^\d+$/.test(value)) {
    const number = Number(value);
    if (number >= 1 && number <= 64) return number;
  } else {
    const upper = value.toUpperCase();
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    const number = SIGNALS[name];
    if (number !== undefined) return number;
    const realtime = /^SIGRTMIN(?:\+(\d+))?$/.exec(name);
    if (realtime) return 34 + Number(realtime[1] ?? 0);
  }
  throw new InvalidArgumentError(
    `invalid signal ${JSON.stringify(value)}: give a name like SIGTERM or TERM, or a number 1-64`,
  );
}

export function signalName(number: number): string {
  return Object.entries(SIGNALS).find(([, n]) => n === number)?.[0] ?? String(number);
}
