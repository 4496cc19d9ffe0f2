#!/usr/bin/env node
// Remote hosts over ssh against this machine, on one state root with N containers (default 100,
// running `sleep`, --network none), the "remote" root served by an sshd of this script's own on
// 127.0.0.1 (scripts/lib/sshd.mjs):
//   gantry ps -a  vs  gantry --host ssh://127.0.0.1 ps -a  vs  ssh 127.0.0.1 true   (hyperfine),
//   the ssh round trip both on a new connection and on the shared one the CLI keeps per host
//   (ControlMaster in <root>/ssh, see source/runtime/remote/control-path.ts);
//   a TUI refresh (the protocol's `list` of every container) on one open connection: over the
//   ssh session vs over a pipe to a local `gantry system service --stdio`, and the round trip of
//   a request that does nothing on the open ssh session (medians of R requests).
// Needs root, hyperfine and openssh-server. Usage: node bench/remote/run.mjs [containers] [runs]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { removeEverything } from '../../scripts/lib/cleanup.mjs';
import { startSshd } from '../../scripts/lib/sshd.mjs';

const count = Number(process.argv[2] ?? 100);
const runs = Number(process.argv[3] ?? 20);
const repo = path.resolve(import.meta.dirname, '../..');
const gantryBin = path.join(repo, 'bin', 'gantry.js');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-bench-remote-'));
const cgroupParent = `gantry-bench-remote-${process.pid}`;
const env = {
  ...process.env,
  GANTRY_ROOT: path.join(work, 'root'),
  GANTRY_CGROUP_PARENT: cgroupParent,
  GANTRY_DEFAULT_NETWORK: 'none',
  GANTRY_HOST: '',
  XDG_CONFIG_HOME: path.join(work, 'config'),
  // The CLI's shared ssh connections then live in <root>/ssh, where the shared round trip finds them.
  XDG_RUNTIME_DIR: '',
};
const controlPath = path.join(env.GANTRY_ROOT, 'ssh', '%C');
let sshd;

function gantry(...args) {
  const result = spawnSync(process.execPath, [gantryBin, ...args], { env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`gantry ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** A protocol session (`system service --stdio`) through `command`; requests timed one by one. */
async function session(command, args) {
  const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const waiting = new Map();
  let hello;
  const ready = new Promise((resolve) => (hello = resolve));
  lines.on('line', (line) => {
    const message = JSON.parse(line);
    if (message.hello) hello();
    else waiting.get(message.id)?.(message);
  });
  await ready;
  let next = 1;
  const call = (method, params) =>
    new Promise((resolve) => {
      const id = next++;
      waiting.set(id, resolve);
      child.stdin.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  const time = async (method, params) => {
    const times = [];
    for (let run = 0; run < runs + 3; run++) {
      const start = process.hrtime.bigint();
      const reply = await call(method, params);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (method === 'list' && reply.result?.records.length !== count)
        throw new Error(`list gave ${JSON.stringify(reply).slice(0, 200)}`);
      if (run >= 3) times.push(ms);
    }
    return median(times);
  };
  return { time, close: () => child.stdin.end() };
}

try {
  if (process.getuid?.() !== 0) throw new Error('run as root: the containers are real');
  gantry('image', 'from-host', 'demo');
  for (let index = 0; index < count; index++)
    gantry('run', '-d', '--network', 'none', 'demo', 'sleep', '100000');
  sshd = await startSshd({
    GANTRY_ROOT: env.GANTRY_ROOT,
    GANTRY_CGROUP_PARENT: cgroupParent,
    GANTRY_DEFAULT_NETWORK: 'none',
  });
  const url = sshd.url(gantryBin);
  const ssh = sshd.clientEnv.GANTRY_SSH_COMMAND;
  Object.assign(env, sshd.clientEnv);
  const json = path.join(work, 'ps.json');
  execFileSync(
    'hyperfine',
    [
      '--runs',
      String(runs),
      '--warmup',
      '3',
      '--export-json',
      json,
      '-n',
      'local ps -a',
      `${process.execPath} ${gantryBin} ps -a`,
      '-n',
      'ssh ps -a',
      `${process.execPath} ${gantryBin} --host ${url} ps -a`,
      '-n',
      'ssh round trip',
      `${ssh} -p ${sshd.port} root@127.0.0.1 true`,
      '-n',
      'ssh round trip, shared connection',
      `${ssh} -o ControlMaster=auto -o ControlPath=${controlPath} -o ControlPersist=30 -p ${sshd.port} root@127.0.0.1 true`,
    ],
    { env, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const ps = Object.fromEntries(
    JSON.parse(fs.readFileSync(json, 'utf8')).results.map((result) => [result.command, result.median * 1000]),
  );

  const local = await session(process.execPath, [gantryBin, 'system', 'service', '--stdio']);
  const localList = await local.time('list', { all: true });
  local.close();
  const sshWords = ssh.split(/\s+/);
  const remote = await session(sshWords[0], [
    ...sshWords.slice(1),
    '-T',
    '-p',
    String(sshd.port),
    'root@127.0.0.1',
    `${gantryBin} system service --stdio`,
  ]);
  const remoteList = await remote.time('list', { all: true });
  // A request that does nothing: its reply is the round trip on the open session.
  const remoteTrip = await remote.time('get', { reference: 'no-such-container' });
  remote.close();

  const ms = (value) => `${value.toFixed(1)} ms`;
  const psBound = 2 * ps['local ps -a'] + ps['ssh round trip'];
  const sharedTrip = ps['ssh round trip, shared connection'];
  const psSharedBound = 2 * ps['local ps -a'] + sharedTrip;
  const listBound = 2 * localList + remoteTrip;
  console.log(`\n${count} containers, medians (${runs} runs):\n`);
  console.log('| measure | local | over ssh | ssh round trip | bound (2x local + trip) | within |');
  console.log('| ------- | ----- | -------- | -------------- | ----------------------- | ------ |');
  console.log(
    `| \`ps -a\` (a command, its own ssh session) | ${ms(ps['local ps -a'])} | ${ms(ps['ssh ps -a'])} | ${ms(ps['ssh round trip'])} | ${ms(psBound)} | ${ps['ssh ps -a'] <= psBound ? 'yes' : 'no'} |`,
  );
  console.log(
    `| \`ps -a\`, bound with the shared connection's trip | ${ms(ps['local ps -a'])} | ${ms(ps['ssh ps -a'])} | ${ms(sharedTrip)} | ${ms(psSharedBound)} | ${ps['ssh ps -a'] <= psSharedBound ? 'yes' : 'no'} |`,
  );
  console.log(
    `| TUI refresh (\`list\` on the open session) | ${ms(localList)} | ${ms(remoteList)} | ${ms(remoteTrip)} | ${ms(listBound)} | ${remoteList <= listBound ? 'yes' : 'no'} |`,
  );
} finally {
  // The shared connection's master (started by the first command) ends now, not 30 s later.
  if (sshd)
    spawnSync(
      sshd.clientEnv.GANTRY_SSH_COMMAND.split(/\s+/)[0],
      [
        ...sshd.clientEnv.GANTRY_SSH_COMMAND.split(/\s+/).slice(1),
        '-o',
        `ControlPath=${controlPath}`,
        '-O',
        'exit',
        '-p',
        String(sshd.port),
        'root@127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
  sshd?.stop();
  removeEverything({ gantryBin, env, cgroupParents: [cgroupParent], work });
}
