#!/usr/bin/env node
// How fast the TUI answers, with N running containers (default 100), each figure beside a peer
// measured the same way in the same run:
//   - first frame: from starting the command in a new tmux terminal to the table showing the
//     containers, against the smallest Ink program (bench/tui/bare-ink.mjs) showing its line;
//   - key to screen: from `tmux send-keys j` (or k) to capture-pane showing the changed screen,
//     against `less` scrolling a 200-line file by a line the same way. The screen is read every
//     POLL ms (default 5) after the key: at 50 ms, as the first runs did, any key that missed the
//     first capture counted as about 90 ms. Keys are pressed in rounds (`less`, the TUI, the
//     baseline, again), so a change in the machine's load falls on all of them.
// GANTRY_BENCH_BASELINE=/path/to/other/checkout/bin/gantry.js adds that build's TUI to the key
// measure (before/after a change, in the same run). Starts of 0 skip the first-frame measure.
// Medians (and p90 for keys), with the load average at the start and the end. Needs root and tmux.
// Usage: node bench/tui/first-frame.mjs [containers] [starts] [keys] [poll ms]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTmux } from '../../scripts/lib/tmux.mjs';
import { benchGantry, gantryBin, loadAverage, median, percentile, repo } from './setup.mjs';

const [count = 100, starts = 10, keys = 40, pollMs = 5] = process.argv.slice(2).map(Number);
const baseline = process.env.GANTRY_BENCH_BASELINE;
const ROUNDS = 4;
const bench = benchGantry('frame');
const now = () => Number(process.hrtime.bigint()) / 1e6;

/** Milliseconds from starting `command` in a new terminal to `ready` on its screen. */
async function timeToScreen(open, ready) {
  const start = now();
  const pane = open();
  try {
    await pane.waitFor(ready, 120_000);
    return now() - start;
  } finally {
    pane.kill();
  }
}

/** Milliseconds from each key to the screen changing, alternating two keys; added to `times`. */
async function keyToScreen(pane, [forward, back], presses, times) {
  for (let index = 0; index < presses; index += 1) {
    const before = pane.capture();
    const start = now();
    pane.send(index % 2 === 0 ? forward : back);
    await pane.waitFor((screen) => screen !== before, 60_000, 'the screen to change', pollMs);
    times.push(now() - start);
  }
}

async function main() {
  bench.startContainers(count);
  const loadBefore = loadAverage();

  const bare = [];
  const tui = [];
  for (let run = 0; run < starts; run += 1) {
    bare.push(
      await timeToScreen(
        () =>
          startTmux([process.execPath, path.join(repo, 'bench', 'tui', 'bare-ink.mjs')], {
            env: { NODE_ENV: 'production' },
            columns: 120,
            rows: 40,
            label: 'bench-bare',
          }),
        'BARE-INK-READY',
      ),
    );
    // The first frame with the containers in it (the table's first rows).
    tui.push(await timeToScreen(() => bench.openPane(), /c000\s.*running/));
  }

  const lines = path.join(bench.work, 'lines.txt');
  fs.writeFileSync(lines, Array.from({ length: 200 }, (_, index) => `line ${index}`).join('\n'));
  const less = startTmux(['less', lines], { columns: 120, rows: 40, label: 'bench-less' });
  await less.waitFor('line 0', 60_000);
  const tuis = [
    { name: 'gantry TUI', bin: gantryBin },
    ...(baseline ? [{ name: 'baseline TUI', bin: baseline }] : []),
  ];
  for (const tui of tuis) {
    tui.pane = startTmux([process.execPath, tui.bin], {
      env: Object.fromEntries(
        ['GANTRY_ROOT', 'GANTRY_CGROUP_PARENT', 'GANTRY_CONFIG', 'NODE_ENV'].map((key) => [
          key,
          bench.env[key],
        ]),
      ),
      columns: 120,
      rows: 40,
      label: 'bench-keys',
    });
    await tui.pane.waitFor(/c000\s.*running/, 120_000);
    tui.keys = [];
  }
  const lessKeys = [];
  try {
    for (let round = 0; round < ROUNDS; round += 1) {
      const presses = Math.ceil(keys / ROUNDS);
      await keyToScreen(less, ['j', 'k'], presses, lessKeys);
      for (const tui of tuis) await keyToScreen(tui.pane, ['j', 'k'], presses, tui.keys);
    }
  } finally {
    less.kill();
    for (const tui of tuis) {
      tui.pane.send('q');
      tui.pane.kill();
    }
  }

  const fixed = (value) => value.toFixed(1);
  console.log(
    `${new Date().toISOString()}: containers ${count}, ${starts} starts, ${keys} keys; ${os.cpus().length} CPUs, Node ${process.version}; load average ${loadBefore} at the start, ${loadAverage()} at the end`,
  );
  if (starts > 0)
    console.log(
      `first frame: gantry TUI median ${fixed(median(tui))} ms (min ${fixed(Math.min(...tui))}); bare Ink median ${fixed(median(bare))} ms (min ${fixed(Math.min(...bare))}); ratio ${(median(tui) / median(bare)).toFixed(2)}x`,
    );
  console.log(`key to screen (${lessKeys.length} keys each, screen read every ${pollMs} ms):`);
  for (const { name, keys: times } of tuis)
    console.log(
      `  ${name} median ${fixed(median(times))} ms, p90 ${fixed(percentile(times, 0.9))} ms (over less by ${fixed(median(times) - median(lessKeys))} ms at the median)`,
    );
  console.log(`  less median ${fixed(median(lessKeys))} ms, p90 ${fixed(percentile(lessKeys, 0.9))} ms`);
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  bench.cleanup();
}
