// Removes what a script made with a private GANTRY_ROOT and cgroup parent: its containers (through
// gantry, retried while another process rebuilds dist/), then whatever is left in its own cgroup
// directories (processes killed, directories removed, children first). Never touches anything
// outside the named cgroup parents.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function gantryIds(gantryBin, env) {
  for (let attempt = 0; attempt < 30; attempt += 1) {
    const listed = spawnSync(process.execPath, [gantryBin, 'ps', '-aq', '--no-trunc'], {
      env,
      encoding: 'utf8',
    });
    if (listed.status === 0) return listed.stdout.split('\n').filter(Boolean);
    sleep(1000);
  }
  return [];
}

function cgroupDirectories(parent) {
  if (!fs.existsSync(CGROUP_ROOT)) return [];
  return fs
    .readdirSync(CGROUP_ROOT)
    .map((hierarchy) => path.join(CGROUP_ROOT, hierarchy, parent))
    .filter((directory) => fs.existsSync(directory));
}

function killTree(directory) {
  for (const entry of fs.readdirSync(directory, { withFileTypes: true }))
    if (entry.isDirectory()) killTree(path.join(directory, entry.name));
  let pids = [];
  try {
    pids = fs.readFileSync(path.join(directory, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

function removeTree(directory) {
  for (const entry of fs.readdirSync(directory, { withFileTypes: true }))
    if (entry.isDirectory()) removeTree(path.join(directory, entry.name));
  for (let attempt = 0; attempt < 50; attempt += 1) {
    try {
      fs.rmdirSync(directory);
      return;
    } catch (error) {
      if (error.code === 'ENOENT') return;
      sleep(20);
    }
  }
  console.error(`cleanup: could not remove ${directory}`);
}

/**
 * @param {{ gantryBin: string, env: NodeJS.ProcessEnv, cgroupParents: string[], work?: string }} options
 */
export function removeEverything({ gantryBin, env, cgroupParents, work }) {
  for (const id of gantryIds(gantryBin, env))
    spawnSync(process.execPath, [gantryBin, 'rm', '-f', id], { env, stdio: 'ignore' });
  for (const parent of cgroupParents) for (const directory of cgroupDirectories(parent)) killTree(directory);
  sleep(200);
  for (const parent of cgroupParents)
    for (const directory of cgroupDirectories(parent)) removeTree(directory);
  const left = cgroupParents.flatMap(cgroupDirectories);
  if (work) {
    if (left.length === 0) fs.rmSync(work, { recursive: true, force: true });
    else console.error(`cleanup: kept ${work} because ${left.length} cgroup directories remain`);
  }
}
