/**
 * Container logs on the real kernel: the monitor's rotation holds the cap while a container prints
 * as fast as it can, `logs -f` follows across rotations, and `logs` of a huge log reads only what
 * it shows (bytes and peak memory as the kernel counts them for the real CLI process).
 */
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { engineForSuite, GANTRY, testName, waitFor } from '../../support/engine.js';
import { describeUnless, needsCommand, needsRoot } from '../../support/skip.js';

const KIB = 1024;
const GIB = 1024 * 1024 * 1024;

interface Measured {
  stdout: string;
  exitCode: number;
  /** Bytes the gantry process read (rchar: every read, cached or not). */
  readBytes: number;
  /** Its peak resident memory in KiB (GNU time's %M). */
  peakKib: number;
}

/**
 * Runs `gantry ARGS [| PIPE]` under sh and reports what the kernel counted for the gantry
 * process: its rchar, folded into the shell's /proc/PID/io when the shell reaps it, and its
 * peak RSS from GNU time.
 */
async function measured(env: Record<string, string>, args: string[], pipe = ''): Promise<Measured> {
  const report = path.join(os.tmpdir(), `${testName('logs-time')}-${process.pid}-${Date.now()}`);
  const quoted = args.map((arg) => `'${arg}'`).join(' ');
  const script = [
    `/usr/bin/time -o ${report} -f %M ${process.execPath} ${GANTRY} ${quoted} ${pipe}`,
    'status=$?',
    'grep rchar /proc/$$/io >&2',
    'exit $status',
  ].join('\n');
  const result = await execa('sh', ['-c', script], { env, reject: false, stripFinalNewline: false });
  const peakKib = Number(fs.readFileSync(report, 'utf8').trim().split('\n').pop());
  fs.rmSync(report, { force: true });
  return {
    stdout: String(result.stdout),
    exitCode: result.exitCode ?? 128,
    readBytes: Number(/rchar: (\d+)/.exec(String(result.stderr))![1]),
    peakKib,
  };
}

function record(second: number, text: string, stream = 'stdout', tag = 'F'): string {
  return `2026-01-01T00:00:${String(second).padStart(2, '0')}.000000000Z ${stream} ${tag} ${text}\n`;
}

describeUnless([needsRoot(), needsCommand('/usr/bin/time', 'time')], 'container logs', () => {
  const engine = engineForSuite('logs');
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('logs-sync')}-`));
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  const inspect = async (name: string) => JSON.parse((await engine.gantry(['inspect', name])).stdout)[0];
  const logFiles = (dir: string) =>
    fs
      .readdirSync(dir)
      .filter((name) => /^ctr\.log(\.\d+)?$/.test(name))
      .sort();

  it('shows the default cap (docker local: 20 MB x 5) and the options given in inspect', async () => {
    await engine.gantry(['create', '--name', 'capped', 'demo', 'true']);
    expect((await inspect('capped')).HostConfig.LogConfig).toEqual({
      Type: 'k8s-file',
      Config: { 'max-size': '20m', 'max-file': '5' },
    });
    await engine.gantry(['create', '--name', 'opts', '--log-opt', 'max-size=10m,max-file=2', 'demo', 'true']);
    expect((await inspect('opts')).HostConfig.LogConfig.Config).toEqual({
      'max-size': '10m',
      'max-file': '2',
    });
    await engine.gantry([
      'create',
      '--name',
      'json',
      '--log-driver',
      'json-file',
      '--log-opt',
      'max-file=3',
      'demo',
      'true',
    ]);
    expect((await inspect('json')).HostConfig.LogConfig).toEqual({
      Type: 'k8s-file',
      Config: { 'max-size': '20m', 'max-file': '3' },
    });
  });

  it('refuses drivers and options it does not have, saying what it takes', async () => {
    const driver = await engine.gantry(['create', '--log-driver', 'syslog', 'demo', 'true']);
    expect(driver.exitCode).toBe(125);
    expect(driver.stderr).toContain('log driver "syslog" is not supported');
    expect(driver.stderr).toContain('k8s-file');
    const option = await engine.gantry(['create', '--log-opt', 'max-size=2k', 'demo', 'true']);
    expect(option.exitCode).toBe(125);
    expect(option.stderr).toContain('below the minimum of 8k');
    const unknown = await engine.gantry(['create', '--log-opt', 'syslog-address=udp://x', 'demo', 'true']);
    expect(unknown.stderr).toContain('unknown log option "syslog-address"');
    expect((await engine.gantry(['ps', '-aq'])).stdout.trim().split('\n')).toHaveLength(3);
  });

  it('keeps no file above max-size and no more than max-file files while a container prints flat out', async () => {
    const run = await engine.gantry([
      'run',
      '-d',
      '--name',
      'flood',
      '--log-opt',
      'max-size=64k',
      '--log-opt',
      'max-file=3',
      'demo',
      'sh',
      '-c',
      'yes "as fast as it can go, one line after another"',
    ]);
    expect(run.exitCode).toBe(0);
    const dir = path.join(engine.root, 'containers', run.stdout.trim());
    // Sample the files while it prints, until the current file was seen replaced 30 times (inode
    // numbers are reused, so count changes between samples, not distinct numbers).
    let previous = 0;
    let replaced = 0;
    let largest = 0;
    let mostFiles = 0;
    await waitFor(
      () => {
        const names = logFiles(dir);
        mostFiles = Math.max(mostFiles, names.length);
        for (const name of names) {
          try {
            const stat = fs.statSync(path.join(dir, name));
            largest = Math.max(largest, stat.size);
            if (name === 'ctr.log' && stat.ino !== previous) {
              if (previous !== 0) replaced += 1;
              previous = stat.ino;
            }
          } catch {
            // rotated away between the listing and the stat
          }
        }
        return replaced >= 30;
      },
      120_000,
      '30 rotations',
    );
    await engine.gantry(['kill', 'flood']);
    // The monitor writes what the pipe still holds, then records the end.
    await engine.gantry(['wait', 'flood']);
    expect(largest).toBeLessThanOrEqual(64 * KIB);
    expect(mostFiles).toBeLessThanOrEqual(3);
    expect(logFiles(dir)).toEqual(['ctr.log', 'ctr.log.1', 'ctr.log.2']);
    for (const name of logFiles(dir))
      expect(fs.statSync(path.join(dir, name)).size).toBeLessThanOrEqual(64 * KIB);
    // What is kept reads back whole: the last lines, across the rotated files.
    const tail = await engine.gantry(['logs', '--tail', '3000', 'flood']);
    const lines = tail.stdout.split('\n');
    expect(lines.length).toBeGreaterThan(1500);
    expect(lines.slice(1, -1).every((line) => line === 'as fast as it can go, one line after another')).toBe(
      true,
    );
  });

  it('cuts a line longer than max-size into partial records that read back as one line', async () => {
    await engine.gantry([
      'run',
      '--name',
      'long',
      '--log-opt',
      'max-size=8k',
      '--log-opt',
      'max-file=4',
      'demo',
      'sh',
      '-c',
      'head -c 20000 /dev/zero | tr "\\0" x; echo; echo after',
    ]);
    const dir = path.join(engine.root, 'containers', (await inspect('long')).Id);
    for (const name of logFiles(dir))
      expect(fs.statSync(path.join(dir, name)).size).toBeLessThanOrEqual(8 * KIB);
    const logs = await engine.gantry(['logs', 'long']);
    expect(logs.stdout).toBe(`${'x'.repeat(20000)}\nafter\n`);
  });

  it('follows across rotations with -f, every line once and in order', async () => {
    const sync = path.join(scratch, 'follow');
    fs.mkdirSync(sync);
    // Six batches of 300 lines (about 14 KB of records each) into 8 KiB files, 3 kept: every batch
    // rotates at least once; each waits for the test to have seen the one before.
    const script = [
      'for i in 1 2 3 4 5 6; do',
      '  while [ ! -e /sync/go$i ]; do sleep 0.02; done',
      '  seq 1 300 | sed "s/^/b$i-l/"',
      'done',
    ].join('\n');
    const run = await engine.gantry([
      'run',
      '-d',
      '--name',
      'rotating',
      '-v',
      `${sync}:/sync`,
      '--log-opt',
      'max-size=8k',
      '--log-opt',
      'max-file=3',
      'demo',
      'sh',
      '-c',
      script,
    ]);
    expect(run.exitCode).toBe(0);
    const follower = engine.spawn(['logs', '-f', 'rotating']);
    let seen = '';
    follower.stdout!.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    for (let batch = 1; batch <= 6; batch++) {
      fs.writeFileSync(path.join(sync, `go${batch}`), '');
      await waitFor(() => seen.includes(`b${batch}-l300\n`), 60_000, `batch ${batch}`);
    }
    const result = await follower;
    expect(result.exitCode).toBe(0);
    // The first batches were rotated away: only the follower has them.
    const kept = await engine.gantry(['logs', 'rotating']);
    expect(kept.stdout).not.toContain('b1-l1\n');
    expect(kept.stdout.endsWith('b6-l300\n')).toBe(true);
    const expected = [1, 2, 3, 4, 5, 6].flatMap((batch) =>
      Array.from({ length: 300 }, (_, line) => `b${batch}-l${line + 1}`),
    );
    expect(seen).toBe(`${expected.join('\n')}\n`);
  });

  describe('a log of 1 GiB', () => {
    let dir = '';
    it('is made: rotated file and current file, sparse in the middle, real records at their ends', async () => {
      const run = await engine.gantry(['run', '--name', 'huge', 'demo', 'true']);
      expect(run.exitCode).toBe(0);
      dir = path.join(engine.root, 'containers', (await inspect('huge')).Id);
      const older = path.join(dir, 'ctr.log.1');
      const current = path.join(dir, 'ctr.log');
      fs.writeFileSync(older, Array.from({ length: 100_000 }, (_, i) => record(1, `start ${i}`)).join(''));
      fs.truncateSync(older, GIB / 2);
      fs.appendFileSync(older, `\n${record(2, 'older')}`);
      fs.writeFileSync(current, '');
      fs.truncateSync(current, GIB / 2);
      fs.appendFileSync(
        current,
        `\n${Array.from({ length: 40 }, (_, i) => record(4, `newest ${i}`)).join('')}`,
      );
      expect(fs.statSync(older).size + fs.statSync(current).size).toBeGreaterThan(GIB);
    });

    it('logs --tail 10 reads the ends of the files, not the files, with flat memory', async () => {
      const baseline = await measured(engine.env, ['logs', '--tail', '0', 'huge']);
      const tail = await measured(engine.env, ['logs', '--tail', '10', 'huge']);
      expect(tail.exitCode).toBe(0);
      expect(tail.stdout).toBe(`${Array.from({ length: 10 }, (_, i) => `newest ${30 + i}`).join('\n')}\n`);
      // The CLI itself reads about 0.6 MB (its code); the walk back a few 64 KiB blocks.
      expect(tail.readBytes - baseline.readBytes).toBeLessThan(2 * 1024 * 1024);
      expect(tail.peakKib - baseline.peakKib).toBeLessThan(32 * 1024);
    });

    it('logs | head -2 ends as soon as head has its lines', async () => {
      const head = await measured(engine.env, ['logs', 'huge'], '| head -2');
      expect(head.stdout).toBe('start 0\nstart 1\n');
      expect(head.readBytes).toBeLessThan(16 * 1024 * 1024);
    });
  });

  it('streams a whole log in flat memory', async () => {
    const run = await engine.gantry(['run', '--name', 'big', 'demo', 'true']);
    expect(run.exitCode).toBe(0);
    const file = path.join(engine.root, 'containers', (await inspect('big')).Id, 'ctr.log');
    const block = Array.from({ length: 10_000 }, (_, i) =>
      record(5, `line ${i} of a log that is read from end to end`),
    ).join('');
    const handle = fs.openSync(file, 'w');
    for (let i = 0; i < 100; i++) fs.writeSync(handle, block); // about 76 MB, a million lines
    fs.closeSync(handle);
    const small = await measured(engine.env, ['logs', '--tail', '1', 'big']);
    const whole = await measured(engine.env, ['logs', 'big'], '| wc -l');
    expect(whole.stdout.trim()).toBe('1000000');
    expect(whole.readBytes).toBeGreaterThan(fs.statSync(file).size);
    // Reading the whole file held no more of it than a few blocks and a batch of output.
    expect(whole.peakKib - small.peakKib).toBeLessThan(48 * 1024);
  });
});
