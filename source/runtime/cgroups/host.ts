/** What the host offers limits to refer to: its online CPUs and memory nodes. */
import fs from 'node:fs';
import os from 'node:os';
import { parseCpuList } from './parse.js';

function readList(file: string): number[] | undefined {
  try {
    return parseCpuList(fs.readFileSync(file, 'utf8'), file);
  } catch {
    return undefined;
  }
}

/** Online CPU numbers (they cap --cpus and check --cpuset-cpus). */
export function onlineCpus(): number[] {
  return readList('/sys/devices/system/cpu/online') ?? os.cpus().map((_, index) => index);
}

/** Online memory nodes (they check --cpuset-mems). */
export function onlineMemoryNodes(): number[] {
  return readList('/sys/devices/system/node/online') ?? [0];
}
