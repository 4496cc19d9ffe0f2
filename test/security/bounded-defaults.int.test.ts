/**
 * What a container gets without asking, tried from inside real containers with a static probe
 * (programs/probe.c): docker's seccomp allowlist (syscalls newer than the profile answer ENOSYS,
 * known dangerous ones EPERM, AF_VSOCK and personality flags refused, everyday programs fine), a
 * pids limit of 2048 that a fork bomb really meets, and no_new_privs, which keeps a setuid-root
 * binary from raising an unprivileged user; each shown in `inspect` and `run --help`.
 */
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fromHost } from '../../source/runtime/images/from-host.js';
import { ImageStore } from '../../source/runtime/images/store.js';
import { StateLayout } from '../../source/runtime/paths.js';
import { engineForSuite, testName } from '../support/engine.js';
import { describeUnless, needsCommand, needsRoot } from '../support/skip.js';

const ENOSYS = 38;
const EPERM = 1;
const EAGAIN = 11;

describeUnless([needsRoot(), needsCommand('gcc')], 'bounded and hardened by default', () => {
  const engine = engineForSuite('bounded-defaults');
  let work: string;
  let probe: string;

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('probe')}-`));
    probe = path.join(work, 'probe');
    await execa('gcc', [
      '-static',
      '-O1',
      '-o',
      probe,
      path.join(import.meta.dirname, 'programs', 'probe.c'),
    ]);
  });

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  async function ok(args: string[]): Promise<string> {
    const result = await engine.gantry(args);
    expect(result.exitCode, `gantry ${args.join(' ')}: ${result.stderr}`).toBe(0);
    return result.stdout;
  }

  /** Runs the probe in a fresh container; attempt name -> [result, errno]. */
  async function attempt(
    options: string[],
    attempts: string[],
  ): Promise<Map<string, { result: number; errno: number }>> {
    const run = await engine.gantry([
      'run',
      '--rm',
      '-v',
      `${probe}:/probe:ro`,
      ...options,
      'demo',
      '/probe',
      ...attempts,
    ]);
    const outcome = new Map<string, { result: number; errno: number }>();
    for (const line of run.stdout.trim().split('\n')) {
      const [name, result, errno] = line.split(' ');
      if (name) outcome.set(name, { result: Number(result), errno: Number(errno) });
    }
    expect([...outcome.keys()], run.stderr).toEqual(attempts);
    return outcome;
  }

  it('refuses what the allowlist does not name: ENOSYS when newer than the profile, EPERM when known', async () => {
    const seen = await attempt(
      [],
      [
        'statmount',
        'listmount',
        'beyond',
        'clone3',
        'memfd_secret',
        'keyctl',
        'unshare-user',
        'personality-no-randomize',
        'personality-exec',
        'personality-query',
        'socket-vsock',
        'socket-vsock-high',
        'socket-inet',
      ],
    );
    // Newer than any syscall the profile names: ENOSYS, so a libc falls back.
    for (const name of ['statmount', 'listmount', 'beyond', 'clone3'])
      expect(seen.get(name)?.errno, name).toBe(ENOSYS);
    // Known, and not in the allowlist (or not with these arguments): EPERM.
    for (const name of [
      'memfd_secret',
      'keyctl',
      'unshare-user',
      'personality-no-randomize',
      'personality-exec',
      'socket-vsock',
      'socket-vsock-high',
    ])
      expect(seen.get(name)?.errno, name).toBe(EPERM);
    expect(seen.get('personality-query')?.errno).toBe(0);
    expect(seen.get('socket-inet')?.errno).toBe(0);

    // The kernel itself would have let these through: the refusals above are the filter's.
    const unconfined = await attempt(
      ['--security-opt', 'seccomp=unconfined'],
      ['memfd_secret', 'personality-no-randomize', 'keyctl'],
    );
    expect(unconfined.get('memfd_secret')?.errno).not.toBe(EPERM);
    expect(unconfined.get('personality-no-randomize')?.errno).toBe(0);
    expect(unconfined.get('keyctl')?.errno).not.toBe(EPERM);
  });

  it('still runs everyday programs: busybox, and glibc coreutils with their newer syscalls', async () => {
    const script = [
      'set -e',
      'echo hello | tr a-z A-Z',
      'mkdir -p /tmp/a/b && echo data > /tmp/a/b/f && cp -r /tmp/a /tmp/c && mv /tmp/c /tmp/d',
      'cat /tmp/d/b/f',
      'ln -s /tmp/d/b/f /tmp/link && readlink /tmp/link && rm -r /tmp/a /tmp/d /tmp/link',
      'seq 3 | sort -r | xargs echo',
      'sleep 0.1 & wait',
      'ls / > /dev/null && find /etc -name passwd',
      'date +%Y > /dev/null && id -u && uname -s && hostname > /dev/null',
      'head -c 4 /dev/urandom | wc -c',
      'echo done',
    ].join('\n');
    expect(await ok(['run', '--rm', 'demo', 'sh', '-c', script])).toBe(
      'HELLO\ndata\n/tmp/d/b/f\n3 2 1\n/etc/passwd\n0\nLinux\n4\ndone\n',
    );
    // Dynamically linked host binaries: glibc probes clone3, rseq, statx, faccessat2...
    await fromHost(new ImageStore(new StateLayout(engine.root)), 'host-binaries:1', { strategy: 'binaries' });
    expect(
      await ok([
        'run',
        '--rm',
        'host-binaries:1',
        'sh',
        '-c',
        'set -e; mkdir -p /tmp/x; echo b > /tmp/x/2; echo a > /tmp/x/1; cat /tmp/x/* | sort | tr "\\n" " "; ' +
          'cp -a /tmp/x /tmp/y && ls /tmp/y | wc -l; stat -c %s /tmp/y/1; (sleep 0.1 &) ; id -u; echo done',
      ]),
    ).toBe('a b 2\n2\n0\ndone\n');
    await engine.gantry(['image', 'rm', 'host-binaries:1']);
  });

  it('limits a container to 2048 processes unless told otherwise: a fork bomb stops there', async () => {
    const id = (
      await ok(['create', '-v', `${probe}:/probe:ro`, '--name', 'fork-bomb', 'demo', '/probe', 'forks'])
    ).trim();
    expect(JSON.parse(await ok(['inspect', '-f', '{{json .HostConfig.PidsLimit}}', id]))).toBe(2048);
    const run = await engine.gantry(['start', '-a', 'fork-bomb']);
    const [, forked, errno] = run.stdout.trim().split(' ');
    // The probe itself and what it forked: the kernel refused the 2049th process.
    expect(Number(forked) + 1).toBe(2048);
    expect(Number(errno)).toBe(EAGAIN);
    await engine.gantry(['rm', '-f', 'fork-bomb']);

    for (const [flag, shown, file] of [
      ['100', 100, '100'],
      ['-1', -1, 'max'],
      ['0', -1, 'max'],
    ] as const) {
      const limited = (
        await ok(['create', '--pids-limit', flag, 'demo', 'cat', '/sys/fs/cgroup/pids/pids.max'])
      ).trim();
      expect(JSON.parse(await ok(['inspect', '-f', '{{json .HostConfig.PidsLimit}}', limited])), flag).toBe(
        shown,
      );
      expect((await ok(['start', '-a', limited])).trim(), flag).toBe(file);
      await engine.gantry(['rm', '-f', limited]);
    }
  });

  it('keeps no_new_privs on by default: a setuid-root binary does not raise an unprivileged user', async () => {
    const setuid = 'cp /probe /suid-probe && chmod 4755 /suid-probe && exec sleep 600';
    await ok(['run', '-d', '--name', 'nnp-on', '-v', `${probe}:/probe:ro`, 'demo', 'sh', '-c', setuid]);
    await ok([
      'run',
      '-d',
      '--name',
      'nnp-off',
      '--security-opt',
      'no-new-privileges=false',
      '-v',
      `${probe}:/probe:ro`,
      'demo',
      'sh',
      '-c',
      setuid,
    ]);
    const euid = async (container: string): Promise<string> => {
      for (;;) {
        const result = await engine.gantry(['exec', '-u', '1000', container, '/suid-probe', 'euid']);
        if (result.exitCode === 0) return result.stdout.trim();
        // The copy is still being made: exec again once it exists.
        expect(result.stderr).toMatch(/suid-probe|not found|no such file/i);
      }
    };
    expect(await euid('nnp-on')).toBe('euid 1000 0');
    // The same binary without no_new_privs: the attack the default stops.
    expect(await euid('nnp-off')).toBe('euid 0 0');
    expect(JSON.parse(await ok(['inspect', '-f', '{{json .HostConfig.SecurityOpt}}', 'nnp-on']))).toEqual([
      'no-new-privileges',
    ]);
    expect(JSON.parse(await ok(['inspect', '-f', '{{json .HostConfig.SecurityOpt}}', 'nnp-off']))).toEqual([
      'no-new-privileges=false',
    ]);
    const colon = (
      await ok([
        'create',
        '--security-opt',
        'no-new-privileges:false',
        'demo',
        'grep',
        'NoNewPrivs',
        '/proc/self/status',
      ])
    ).trim();
    expect(await ok(['start', '-a', colon])).toMatch(/NoNewPrivs:\s+0/);
    const help = await ok(['run', '--help']);
    expect(help).toContain('no-new-privileges');
    expect(help).toContain('on by default');
    await engine.gantry(['rm', '-f', 'nnp-on', 'nnp-off', colon]);
  });
});
