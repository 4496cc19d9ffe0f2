/**
 * Issue 8.3: a container whose /dev (or a path below it) is a host directory that another
 * container writes to. The other container plants symlinks there, before the start (so the test
 * is deterministic) and while starts are under way (a short race): setup must never chmod a host
 * file through them, never mask /proc paths with the attacker's file, never mount through them
 * into /proc, and never leave a read-only bind writable.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineForSuite, testName } from '../support/engine.js';
import { describeUnless, needsRoot } from '../support/skip.js';
import { buildAttackTool } from './support.js';

/** Masked paths of the default spec that this kernel has (a mask of a missing path is skipped). */
const MASKED = [
  '/proc/kcore',
  '/proc/keys',
  '/proc/timer_list',
  '/proc/sched_debug',
  '/proc/latency_stats',
].filter((p) => fs.existsSync(p));

describeUnless(needsRoot(), 'a shared /dev cannot steer container setup', () => {
  const engine = engineForSuite('sec-dev');
  let tools = '';
  let base = '';
  let shared = '';
  let victim = '';
  let readonlyDir = '';

  beforeAll(async () => {
    tools = buildAttackTool();
    base = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('shared-dev')}-`));
    shared = path.join(base, 'shared');
    readonlyDir = path.join(base, 'readonly');
    victim = path.join(base, 'victim');
    fs.mkdirSync(shared, { mode: 0o777 });
    fs.mkdirSync(readonlyDir);
    fs.writeFileSync(victim, 'host secret\n', { mode: 0o600 });
    fs.chmodSync(victim, 0o600);
    // The attacker: a container with the shared directory at /x, running until the suite ends.
    const attacker = await engine.gantry([
      'run',
      '-d',
      '--name',
      'attacker',
      '-v',
      `${shared}:/x`,
      '-v',
      `${tools}:/attack:ro`,
      'demo',
      'sleep',
      '1000',
    ]);
    expect(attacker.exitCode, attacker.stderr).toBe(0);
    // Planted before any victim starts: every device name a symlink to the host's file (an
    // absolute path means the host's file to anything that follows it before pivot_root), /dev/null
    // a symlink to the attacker's own file, and a directory name that leads into /proc.
    const plant = [
      'echo ATTACKER > /x/evil',
      ...['zero', 'full', 'random', 'urandom', 'tty'].map((name) => `ln -s ${victim} /x/${name}`),
      'ln -s /dev/evil /x/null',
      'ln -s /proc/sys /x/sysdir',
    ].join(' && ');
    const planted = await engine.gantry(['exec', 'attacker', 'sh', '-c', plant]);
    expect(planted.exitCode, planted.stderr).toBe(0);
  });
  afterAll(() => {
    for (const dir of [tools, base]) if (dir) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  });

  /** What `attack inspect` said of each path: "char:1:3", "file:<first line>", "ENOENT" ... */
  function inspected(output: string): Map<string, string> {
    const found = new Map<string, string>();
    for (const line of output.split('\n')) {
      const [target, kind, ...rest] = line.split(' ');
      if (target?.startsWith('/') && kind)
        found.set(target, rest.length ? `${kind}:${rest.join(' ')}` : kind);
    }
    return found;
  }

  function hostUnchanged(): void {
    expect(fs.statSync(victim).mode & 0o7777).toBe(0o600);
    expect(fs.readFileSync(victim, 'utf8')).toBe('host secret\n');
    // No device node was made in the shared directory (runc's rule for a bind-mounted /dev).
    for (const entry of fs.readdirSync(shared)) {
      const stat = fs.lstatSync(path.join(shared, entry));
      expect(stat.isCharacterDevice() || stat.isBlockDevice(), `${entry} in the shared /dev`).toBe(false);
    }
  }

  async function startVictim(): Promise<Map<string, string>> {
    const run = await engine.gantry([
      'run',
      '--rm',
      '-v',
      `${shared}:/dev`,
      '-v',
      `${tools}:/attack:ro`,
      'demo',
      '/attack/attack',
      'inspect',
      ...MASKED,
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    return inspected(run.stdout);
  }

  it('planted symlinks: masks are the null device (not the attacker’s file), no node is made, the host file is untouched', async () => {
    const seen = await startVictim();
    for (const masked of MASKED) expect(seen.get(masked), masked).toBe('char:1:3');
    hostUnchanged();
    // The planted entries are still the attacker's symlinks: setup neither followed nor replaced them.
    expect(fs.readlinkSync(path.join(shared, 'null'))).toBe('/dev/evil');
    expect(fs.readlinkSync(path.join(shared, 'zero'))).toBe(victim);
  });

  it('a mount destination that leads into /proc through a symlink is refused', async () => {
    const run = await engine.gantry([
      'run',
      '--rm',
      '-v',
      `${shared}:/dev`,
      '-v',
      `${readonlyDir}:/dev/sysdir`,
      'demo',
      'true',
    ]);
    expect(run.exitCode).toBe(125);
    expect(run.stderr).toContain('`/dev/sysdir` resolves into /proc through a symlink');
  });

  it('racing: entries swapped for symlinks during setup never reach the host, never unmask /proc, never leave a read-only bind writable', async () => {
    // The attacker swaps /dev/null between its own file and the host file as fast as it can,
    // and /dev/ro between a directory and a symlink to the container's /tmp.
    fs.mkdirSync(path.join(shared, 'ro-dir'));
    const swaps = [
      ['null', '/dev/evil', victim],
      ['ro', '/dev/ro-dir', '/tmp'],
    ];
    for (const [name, ...targets] of swaps) {
      const swap = await engine.gantry([
        'exec',
        '-d',
        'attacker',
        '/attack/attack',
        'swap',
        '/x',
        name!,
        ...targets,
      ]);
      expect(swap.exitCode, swap.stderr).toBe(0);
    }
    try {
      await raceRounds();
    } finally {
      // Ends the swapping loops with their container.
      await engine.gantry(['rm', '-f', 'attacker']);
    }
    hostUnchanged();
  });

  async function raceRounds(): Promise<void> {
    for (let round = 0; round < 10; round++) {
      const run = await engine.gantry([
        'run',
        '--rm',
        '-v',
        `${shared}:/dev`,
        '-v',
        `${readonlyDir}:/dev/ro:ro`,
        '-v',
        `${tools}:/attack:ro`,
        'demo',
        'sh',
        '-c',
        `/attack/attack inspect ${MASKED.join(' ')}; touch /dev/ro/written /tmp/written`,
      ]);
      // Wherever the read-only bind landed, the container could not write into it.
      expect(fs.readdirSync(readonlyDir)).toEqual([]);
      if (run.exitCode === 125) continue; // setup refused a swapped entry: fine, nothing happened
      const seen = inspected(run.stdout);
      for (const masked of MASKED) expect(seen.get(masked), `${masked} in round ${round}`).toBe('char:1:3');
    }
  }
});
