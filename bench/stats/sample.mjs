#!/usr/bin/env node
// The cost of one stats sample inside a long-lived process (what the TUI does once a second):
// Engine.stats() for every running container of a state root, with the CLI's concurrency.
// Prints JSON: median wall time of a full sample and per container, median CPU time per sample.
// Usage: node bench/stats/sample.mjs ROOT CGROUP_PARENT [ROUNDS]
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bundleOptions } from '../../scripts/lib/bundle.mjs';

const [root, cgroupParent, roundsText = '30'] = process.argv.slice(2);
if (!root || !cgroupParent) {
  console.error('usage: node bench/stats/sample.mjs ROOT CGROUP_PARENT [ROUNDS]');
  process.exit(2);
}
const repo = path.resolve(import.meta.dirname, '..', '..');
// The runtime is not built on its own (the CLI is bundled), so bundle the engine here with the
// build's own options (scripts/lib/bundle.mjs), so the bench measures the code users run; the
// output goes to dist/ so that koffi resolves from the checkout's node_modules.
const esbuild = await import('esbuild');
const bundle = path.join(repo, 'dist', 'bench', 'engine.mjs');
await esbuild.build(
  bundleOptions({
    entryPoints: [path.join(repo, 'source', 'runtime', 'containers', 'engine.ts')],
    outfile: bundle,
    external: ['koffi'],
    logLevel: 'error',
  }),
);
const { Engine } = await import(bundle);
const engine = new Engine({ root, cgroupParent, cgroupRoot: '/sys/fs/cgroup' });
const { records } = await engine.list();
const ids = records.map((record) => record.Id);
if (ids.length === 0) {
  console.error('no running containers under', root);
  process.exit(1);
}

const CONCURRENCY = 16; // as `gantry stats`
async function sampleAll() {
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < ids.length) results.push(await engine.stats(ids[next++]));
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ids.length) }, worker));
  return results;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

await sampleAll(); // the first sample of each container has no CPU % yet
const rounds = Number(roundsText);
const wall = [];
const cpu = [];
let withCpuPercent = 0;
for (let round = 0; round < rounds; round += 1) {
  // Samples a second apart, as the TUI and `gantry stats` take them.
  await sleep(1000);
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const samples = await sampleAll();
  wall.push(Number(process.hrtime.bigint() - started) / 1e6);
  const used = process.cpuUsage(cpuBefore);
  cpu.push((used.user + used.system) / 1000);
  withCpuPercent = samples.filter((sample) => sample.cpuPercent !== undefined).length;
}
console.log(
  JSON.stringify({
    containers: ids.length,
    rounds,
    medianSampleMs: median(wall),
    medianPerContainerMs: median(wall) / ids.length,
    medianCpuMsPerSample: median(cpu),
    samplesWithCpuPercent: withCpuPercent,
  }),
);
