#!/usr/bin/env node
// How fast the TUI answers, with N running containers (default 100), each figure beside a peer
// measured the same way in the same run:
//   - first frame: from starting the command in a new tmux terminal to the table showing the
//     containers, against the smallest Ink program (bench/tui/bare-ink.mjs) showing its line;
//   - key to screen: from `tmux send-keys j` (or k) to capture-pane showing the changed screen,
//     against `less` scrolling a 200-line file by a line the same way.
// Medians (and p90 for keys). Needs root and tmux. Usage:
//   node bench/tui/first-frame.mjs [containers] [starts] [keys]
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeEverything } from '../../scripts/lib/cleanup.mjs';
import { startTmux } from '../../scripts/lib/tmux.mjs';

const [count = 100, starts = 10, keys = 40] = process.argv.slice(2).map(Number);
const repo = path.resolve(import.meta.dirname, '..', '..');
const gantryBin = path.join(repo, 'bin', 'gantry.js');
const tag = randomBytes(4).toString('hex');
const work = path.join(os.tmpdir(), `gantry-bench-frame-${tag}`);
fs.mkdirSync(work);
const cgroupParent = `gantry-test-bench-frame-${tag}`;
const env = {
  ...process.env,
  GANTRY_ROOT: path.join(work, 'gantry'),
  GANTRY_CGROUP_PARENT: cgroupParent,
  GANTRY_CONFIG: path.join(work, 'none.json'),
  NODE_ENV: 'production',
};
const tmuxEnv = {
  GANTRY_ROOT: env.GANTRY_ROOT,
  GANTRY_CGROUP_PARENT: cgroupParent,
  GANTRY_CONFIG: env.GANTRY_CONFIG,
};

function gantry(...args) {
  const result = spawnSync(process.execPath, [gantryBin, ...args], { env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`gantry ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout.trim();
}

const median = (values) => percentile(values, 0.5);
function percentile(values, fraction) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}
const now = () => Number(process.hrtime.bigint()) / 1e6;

/** Milliseconds from starting `command` in a new terminal to `ready` on its screen. */
async function timeToScreen(command, ready, extraEnv, label) {
  const start = now();
  const pane = startTmux(command, { env: extraEnv, columns: 120, rows: 40, label });
  try {
    await pane.waitFor(ready, 120_000);
    return now() - start;
  } finally {
    pane.kill();
  }
}

/** Milliseconds from each key to the screen changing, alternating two keys. */
async function keyToScreen(pane, [forward, back], presses) {
  const times = [];
  for (let index = 0; index < presses; index += 1) {
    const before = pane.capture();
    const start = now();
    pane.send(index % 2 === 0 ? forward : back);
    await pane.waitFor((screen) => screen !== before, 60_000);
    times.push(now() - start);
  }
  return times;
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('needs root (real containers)');
  gantry('image', 'from-host', 'bb');
  console.error(`starting ${count} containers`);
  for (let index = 0; index < count; index += 1)
    gantry(
      'run',
      '-d',
      '--name',
      `c${String(index).padStart(3, '0')}`,
      '--memory',
      '64m',
      // No bridge: a bench never touches the host's interfaces or firewall, and frames do not
      // depend on the network.
      '--network',
      'none',
      'bb',
      'sleep',
      '100000',
    );

  const bare = [];
  const tui = [];
  for (let run = 0; run < starts; run += 1) {
    bare.push(
      await timeToScreen(
        [process.execPath, path.join(repo, 'bench', 'tui', 'bare-ink.mjs')],
        'BARE-INK-READY',
        { NODE_ENV: 'production' },
        'bench-bare',
      ),
    );
    // The first frame with the containers in it (the table's first rows).
    tui.push(await timeToScreen([process.execPath, gantryBin], /c000\s.*running/, tmuxEnv, 'bench-frame'));
  }

  const lines = path.join(work, 'lines.txt');
  fs.writeFileSync(lines, Array.from({ length: 200 }, (_, index) => `line ${index}`).join('\n'));
  const less = startTmux(['less', lines], { columns: 120, rows: 40, label: 'bench-less' });
  await less.waitFor('line 0', 60_000);
  const lessKeys = await keyToScreen(less, ['j', 'k'], keys);
  less.kill();
  const pane = startTmux([process.execPath, gantryBin], {
    env: tmuxEnv,
    columns: 120,
    rows: 40,
    label: 'bench-keys',
  });
  await pane.waitFor(/c000\s.*running/, 120_000);
  const tuiKeys = await keyToScreen(pane, ['j', 'k'], keys);
  pane.send('q');
  pane.kill();

  const fixed = (value) => value.toFixed(1);
  console.log(
    `containers ${count}, ${starts} starts, ${keys} keys; ${os.cpus().length} CPUs, Node ${process.version}, load ${os.loadavg()[0].toFixed(2)}`,
  );
  console.log(
    `first frame: gantry TUI median ${fixed(median(tui))} ms (min ${fixed(Math.min(...tui))}); bare Ink median ${fixed(median(bare))} ms (min ${fixed(Math.min(...bare))}); ratio ${(median(tui) / median(bare)).toFixed(2)}x`,
  );
  console.log(
    `key to screen: gantry TUI median ${fixed(median(tuiKeys))} ms, p90 ${fixed(percentile(tuiKeys, 0.9))} ms; less median ${fixed(median(lessKeys))} ms, p90 ${fixed(percentile(lessKeys, 0.9))} ms`,
  );
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  removeEverything({ gantryBin, env, cgroupParents: [cgroupParent], work });
}
