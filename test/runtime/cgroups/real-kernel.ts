/**
 * Processes for the driver tests on the real kernel: a shell script started inside a cgroup (held
 * until it is there, so the workload never runs outside its limits), and the sweep that ends
 * whatever a test left in one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fsp from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CgroupManager } from '../../../source/runtime/cgroups/types.js';

export interface Spawned {
  child: ChildProcess;
  pid: number;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Both pipes have ended, so output() holds everything ('exit' can come before the last read). */
  outputEnded: Promise<unknown>;
}

/** Every process spawnIn started that has not exited yet. */
export const liveChildren = new Map<number, ChildProcess>();

/** Starts `script` under sh, held at a `read` until its pid is in every file of procsFiles(). */
export async function spawnIn(cgroup: CgroupManager, script: string): Promise<Spawned> {
  const child = spawn('sh', ['-c', `read go; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  const pid = child.pid as number;
  liveChildren.set(pid, child);
  let output = '';
  child.stdout?.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr?.on('data', (data: Buffer) => (output += data.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      liveChildren.delete(pid);
      resolve({ code, signal });
    }),
  );
  for (const file of cgroup.procsFiles()) await fsp.writeFile(file, String(pid));
  child.stdin?.write('go\n');
  const outputEnded = Promise.all(
    [child.stdout, child.stderr].map((stream) => stream && finished(stream).catch(() => undefined)),
  );
  return { child, pid, output: () => output, exited, outputEnded };
}

/** Kills every process left in the cgroup (all started by the test) and waits until it is empty. */
export async function killAll(cgroup: CgroupManager): Promise<void> {
  for (let round = 0; round < 250; round += 1) {
    const pids = await cgroup.pids().catch(() => []);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sleep(20);
  }
}

/** Kills the children spawnIn started that are still alive and waits for their exit. */
export async function killLiveChildren(): Promise<void> {
  for (const [pid, child] of liveChildren) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
    await new Promise((resolve) =>
      child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.on('exit', resolve),
    );
  }
}
