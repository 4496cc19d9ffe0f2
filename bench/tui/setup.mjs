// What the TUI benchmarks (first-frame.mjs, run.mjs) share: a private gantry root, config and
// cgroup parent in a temporary work directory, N running busybox containers (no network), the
// real `gantry` in a tmux terminal, the measured process's CPU and memory as the kernel counts
// them, and the clean-up of all of it. Needs root and tmux.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { removeEverything } from '../../scripts/lib/cleanup.mjs';
import { startTmux } from '../../scripts/lib/tmux.mjs';

export const repo = path.resolve(import.meta.dirname, '..', '..');
export const gantryBin = path.join(repo, 'bin', 'gantry.js');
const CLOCK_TICKS = 100;
/** The variables the TUI in a tmux terminal gets from the bench's environment. */
const PASSED = ['GANTRY_ROOT', 'GANTRY_CGROUP_PARENT', 'GANTRY_CONFIG', 'GANTRY_TUI_RENDER_LOG', 'NODE_ENV'];

export const sleep = (ms) => delay(ms);

export function percentile(values, fraction) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}
export const median = (values) => percentile(values, 0.5);

/** The 1, 5 and 15 minute load averages, as uptime prints them. */
export const loadAverage = () =>
  os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(', ');

/**
 * A bench's own gantry: `label` names its work directory and cgroup parent. `env` is the
 * environment every gantry command and the TUI get (add to it, e.g. GANTRY_TUI_RENDER_LOG).
 */
export function benchGantry(label) {
  if (process.getuid?.() !== 0) throw new Error('needs root (real containers)');
  const tag = randomBytes(4).toString('hex');
  // Lower case: podman names an image after its layout path.
  const work = path.join(os.tmpdir(), `gantry-bench-${label}-${tag}`);
  fs.mkdirSync(work);
  const cgroupParent = `gantry-test-bench-${label}-${tag}`;
  const env = {
    ...process.env,
    GANTRY_ROOT: path.join(work, 'gantry'),
    GANTRY_CGROUP_PARENT: cgroupParent,
    GANTRY_CONFIG: path.join(work, 'none.json'),
    NODE_ENV: 'production',
  };
  const extraParents = [];
  let pane;

  function run(command, args, options = {}) {
    const go = () => spawnSync(command, args, { env, encoding: 'utf8', maxBuffer: 64 << 20, ...options });
    let result = go();
    // dist/ is shared with whoever rebuilds the checkout: wait out a rebuild rather than fail.
    for (
      let attempt = 0;
      attempt < 10 &&
      result.status !== 0 &&
      /build output is missing|ERR_MODULE_NOT_FOUND/.test(result.stderr ?? '');
      attempt += 1
    ) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
      result = go();
    }
    if (result.status !== 0)
      throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
    return result.stdout.trim();
  }
  const gantry = (...args) => run(process.execPath, [gantryBin, ...args]);

  return {
    work,
    cgroupParent,
    env,
    run,
    gantry,
    /** Another cgroup parent (a peer's) the clean-up empties and removes. */
    alsoClean: (parent) => extraParents.push(parent),

    /**
     * Imports the host's busybox as image `bb` and starts `count` containers c000, c001, ...
     * running `sleep 100000` with `--memory 64m` and no network (a bench never touches the host's
     * interfaces or firewall). Returns their ids in order.
     */
    startContainers(count, extraArgs = []) {
      gantry('image', 'from-host', 'bb');
      console.error(`starting ${count} containers`);
      const ids = [];
      for (let index = 0; index < count; index += 1)
        ids.push(
          gantry(
            'run',
            '-d',
            '--name',
            `c${String(index).padStart(3, '0')}`,
            '--memory',
            '64m',
            ...extraArgs,
            '--network',
            'none',
            'bb',
            'sleep',
            '100000',
          ),
        );
      return ids;
    },

    /**
     * Runs `command` (default: the TUI) in a new tmux terminal of `columns` x `rows`, with the
     * bench's GANTRY_* variables; the previous one opened this way is closed first.
     */
    openPane(
      command = [process.execPath, gantryBin],
      columns = 120,
      rows = 40,
      paneLabel = `bench-${label}`,
    ) {
      pane?.kill();
      pane = startTmux(command, {
        env: Object.fromEntries(PASSED.map((key) => [key, env[key]])),
        columns,
        rows,
        label: paneLabel,
      });
      return pane;
    },
    closePane() {
      pane?.kill();
      pane = undefined;
    },

    cleanup() {
      pane?.kill();
      removeEverything({ gantryBin, env, cgroupParents: [cgroupParent, ...extraParents], work });
    },
  };
}

function children(pid) {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .flatMap((task) => fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/))
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** The process a pane runs whose command line has `name` (the shell's child: `env` execs into it). */
export async function paneProcess(pane, name) {
  const shell = pane.panePid();
  for (let attempt = 0; attempt < 100; attempt += 1) {
    for (const pid of children(shell)) {
      const command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (command.includes(name)) return pid;
    }
    await sleep(100);
  }
  throw new Error(`no ${name} process in the pane`);
}

/** CPU time the kernel counts for a process (utime + stime), in clock ticks. */
export function cpuTicks(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime are fields 14 and 15 of stat (12 and 13 after the command).
  return Number(fields[11]) + Number(fields[12]);
}

export function rssMiB(pid) {
  const line = fs
    .readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]) / 1024;
}

/** A process's CPU (% of one core) over `seconds` of wall time, and its RSS at the end. */
export async function measureIdle(pid, seconds) {
  const startTicks = cpuTicks(pid);
  const start = process.hrtime.bigint();
  const from = Date.now();
  await sleep(seconds * 1000);
  const ticks = cpuTicks(pid) - startTicks;
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  return {
    cpuPercent: (ticks / CLOCK_TICKS / elapsed) * 100,
    rssMiB: rssMiB(pid),
    window: [from, Date.now()],
  };
}
