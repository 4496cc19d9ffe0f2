#!/usr/bin/env node
// The TUI's own cost with N running containers on screen (default 100), beside `podman stats`
// refreshing the same number of containers every second:
//   - CPU of the TUI process while idle (no keys, the containers idle and past their first minute,
//     so uptimes change once a minute), % of one core over a window (default 60 s), in a terminal
//     tall enough to show every container, and in 80x24 (only a screenful on screen), with the
//     number of frames Ink drew in the window, and in 80x24 sorted by CPU% (every running
//     container sampled for the order);
//   - its resident memory;
//   - the time from the Enter that applies a memory limit in the Limits pane to the cgroup's
//     memory.limit_in_bytes changing (median and p90 over a number of changes);
//   - `podman stats --interval 1` in the same terminal size: CPU and resident memory.
// Both engines run the same busybox image (gantry's from-host image, exported to podman), podman
// with cgroupfs and runc, a private --root/--runroot, --net=none and the host's ulimit flags.
// Needs root, tmux and podman. Usage: node bench/tui/run.mjs [containers] [seconds] [changes]
// [peer]; peer "none" leaves podman out (gantry's figures only, in half the set-up time).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchGantry, loadAverage, measureIdle, paneProcess, percentile, sleep } from './setup.mjs';

const [count = 100, seconds = 60, changes = 20] = process.argv.slice(2, 5).map(Number);
const withPodman = process.argv[5] !== 'none';
const bench = benchGantry('tui');
const { env, work, cgroupParent } = bench;
const podmanParent = `/${cgroupParent.replace('bench-tui', 'bench-podman')}`;
bench.alsoClean(podmanParent.slice(1));
// Everything of podman's stays in the work directory: its tmpdir (default /run/libpod, shared with
// every other podman on the host, and deleted by `system reset`) and its locks (default: one shared
// memory segment for the whole host), so this run neither disturbs nor depends on another.
fs.writeFileSync(path.join(work, 'containers.conf'), '[engine]\nlock_type = "file"\n');
env.CONTAINERS_CONF = path.join(work, 'containers.conf');
const podman = [
  '--root',
  path.join(work, 'podman'),
  '--runroot',
  path.join(work, 'podman-run'),
  '--tmpdir',
  path.join(work, 'podman-tmp'),
  '--storage-driver',
  'overlay',
  '--cgroup-manager=cgroupfs',
  '--runtime=runc',
  '--events-backend=file',
];
const ulimits = ['--ulimit', 'nofile=1024:4096', '--ulimit', 'nproc=1024:4096'];
const podmanRun = (...args) => bench.run('podman', [...podman, ...args]);

/** Frames the TUI drew between two times (it logs each frame when GANTRY_TUI_RENDER_LOG is set). */
function framesBetween(file, from, to) {
  // The log is written when the TUI quits.
  if (!fs.existsSync(file)) return undefined;
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => Number(line.split(' ')[0]))
    .filter((time) => time >= from && time <= to).length;
}

/** The terminal the measured program runs in; one at a time. */
let pane;
const openPane = (command, columns, rows) => {
  pane = bench.openPane(command, columns, rows, 'bench-tui');
};
const waitForScreen = (test, timeoutMs = 60_000) => pane.waitFor(test, timeoutMs);

function cleanup() {
  bench.closePane();
  if (withPodman) {
    spawnSync('podman', [...podman, 'rm', '-af', '-t', '0'], { env, stdio: 'ignore' });
    spawnSync('podman', [...podman, 'system', 'reset', '-f'], { env, stdio: 'ignore' });
  }
  bench.cleanup();
}

async function main() {
  const results = {
    containers: count,
    windowSeconds: seconds,
    host: `${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? ''}`,
    node: process.version,
  };
  const ids = bench.startContainers(count, ['--pids-limit', '64']);
  const firstId = ids[0];
  if (withPodman) {
    bench.gantry('image', 'export', '--format', 'oci', 'bb', path.join(work, 'layout'));
    podmanRun('pull', '-q', `oci:${path.join(work, 'layout')}:latest`);
    const podmanImage = podmanRun('images', '-q').split('\n')[0];
    console.error(`starting ${count} podman containers`);
    for (let index = 0; index < count; index += 1)
      podmanRun(
        'run',
        '-d',
        '--net=none',
        `--cgroup-parent=${podmanParent}`,
        ...ulimits,
        '--memory',
        '64m',
        podmanImage,
        'sleep',
        '100000',
      );
  }
  results.loadAverageAtStart = loadAverage();

  const lastStarted = Date.now();

  // Every container on screen: a terminal of count + 10 rows.
  const rows = count + 10;
  env.GANTRY_TUI_RENDER_LOG = path.join(work, 'frames-tall.log');
  openPane(undefined, 120, rows);
  const tui = await paneProcess(pane, 'gantry.js');
  await waitForScreen((screen) => (screen.match(/● running\s+\S+\s+\d+\.\d%/g) ?? []).length >= count);
  // Idle: every container past its first minute (uptimes then change once a minute) and the
  // selected container's sparklines full.
  await sleep(Math.max(10_000, lastStarted + 75_000 - Date.now()));
  const tall = await measureIdle(tui, seconds);
  results.tuiAllOnScreen = { size: `120x${rows}`, cpuPercent: tall.cpuPercent, rssMiB: tall.rssMiB };
  console.error('tui, all on screen:', results.tuiAllOnScreen);

  // Limit changes: Enter on the first container opens its limits; each change is typed, then
  // the clock starts as Enter is sent and stops when the cgroup file has the new value.
  const limitFile = path.join('/sys/fs/cgroup/memory', cgroupParent, firstId, 'memory.limit_in_bytes');
  pane.send('g', 'Enter');
  await waitForScreen((screen) => /Limits of c000/.test(screen));
  const latencies = [];
  for (let index = 0; index < changes; index += 1) {
    const megabytes = index % 2 === 0 ? 48 : 40;
    pane.send('Enter', 'C-u');
    pane.type(`${megabytes}m`);
    await sleep(150);
    const expected = String(megabytes * 1024 * 1024);
    const start = process.hrtime.bigint();
    pane.send('Enter');
    for (;;) {
      if (fs.readFileSync(limitFile, 'utf8').trim() === expected) break;
      if (Number(process.hrtime.bigint() - start) > 10e9) throw new Error('the limit did not change');
    }
    latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    await sleep(300);
  }
  results.limitChangeMs = {
    median: percentile(latencies, 0.5),
    p90: percentile(latencies, 0.9),
    min: Math.min(...latencies),
    changes,
  };
  console.error('limit change:', results.limitChangeMs);
  pane.send('q');
  await sleep(1500);
  results.tuiAllOnScreen.framesInWindow = framesBetween(env.GANTRY_TUI_RENDER_LOG, ...tall.window);

  // 80x24: only the rows on screen are sampled.
  env.GANTRY_TUI_RENDER_LOG = path.join(work, 'frames-small.log');
  openPane(undefined, 80, 24);
  const small = await paneProcess(pane, 'gantry.js');
  await waitForScreen((screen) => /c000\s.*● running.*\d%/.test(screen));
  await sleep(35_000);
  const smallMeasure = await measureIdle(small, seconds);
  pane.send('q');
  await sleep(1500);
  results.tui80x24 = {
    size: '80x24',
    cpuPercent: smallMeasure.cpuPercent,
    rssMiB: smallMeasure.rssMiB,
    framesInWindow: framesBetween(env.GANTRY_TUI_RENDER_LOG, ...smallMeasure.window),
  };
  console.error('tui, 80x24:', results.tui80x24);

  // 80x24 sorted by CPU% (C): the order needs every running container's figures, so all of them
  // are sampled (summary files), not only the screenful.
  env.GANTRY_TUI_RENDER_LOG = path.join(work, 'frames-sorted.log');
  openPane(undefined, 80, 24);
  const sorted = await paneProcess(pane, 'gantry.js');
  await waitForScreen((screen) => /c000\s.*● running.*\d%/.test(screen));
  pane.send('C');
  await waitForScreen((screen) => /CPU%?[▼▲]/.test(screen), 60_000);
  await sleep(35_000);
  const sortedMeasure = await measureIdle(sorted, seconds);
  pane.send('q');
  await sleep(1500);
  results.tui80x24SortedByCpu = {
    size: '80x24, sorted by CPU%',
    cpuPercent: sortedMeasure.cpuPercent,
    rssMiB: sortedMeasure.rssMiB,
    framesInWindow: framesBetween(env.GANTRY_TUI_RENDER_LOG, ...sortedMeasure.window),
  };
  console.error('tui, 80x24 sorted by CPU%:', results.tui80x24SortedByCpu);
  delete env.GANTRY_TUI_RENDER_LOG;

  // podman stats refreshing the same number of containers every second, same terminal size.
  if (!withPodman) {
    results.loadAverageAtEnd = loadAverage();
    console.log(JSON.stringify(results, null, 2));
    return;
  }
  openPane(['podman', ...podman, 'stats', '--interval', '1'], 120, rows);
  const stats = await paneProcess(pane, 'stats');
  await waitForScreen((screen) => (screen.match(/\d+\.\d+%/g) ?? []).length >= count, 120_000);
  await sleep(5000);
  const podmanMeasure = await measureIdle(stats, seconds);
  results.podmanStats = {
    size: `120x${rows}`,
    cpuPercent: podmanMeasure.cpuPercent,
    rssMiB: podmanMeasure.rssMiB,
  };
  console.error('podman stats:', results.podmanStats);
  results.loadAverageAtEnd = loadAverage();
  console.log(JSON.stringify(results, null, 2));
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  cleanup();
}
