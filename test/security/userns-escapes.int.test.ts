/**
 * The escapes the security suite attacks, again under `--userns=auto`: a container whose root is
 * root only of its own namespaces must not reach more than one that shares the host's. The host
 * reads of /etc/passwd stay inside the container (host-reads.int.test.ts), and the container's
 * root holds no power over what the host's root owns: a root-only file bound in, the host's
 * kernel settings, device nodes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineForSuite, waitFor } from '../support/engine.js';
import { describeUnless, needsRoot } from '../support/skip.js';
import { usernsBase } from '../support/userns.js';

const base = usernsBase('userns-escapes');

describeUnless(needsRoot(), 'escapes under a user namespace', () => {
  const engine = engineForSuite('userns-escapes');
  let host: string;
  let marker: string;

  beforeAll(() => {
    host = path.join(base, 'host');
    fs.mkdirSync(host, { mode: 0o755 });
    fs.chmodSync(host, 0o755);
    marker = `secret${path.basename(base).slice(-6)}`;
    fs.writeFileSync(path.join(host, 'passwd'), `intruder:x:4242:4242:${marker}:/${marker}:/bin/sh\n`);
    fs.writeFileSync(path.join(host, 'group'), `intruders:x:4343:intruder\n`);
    fs.writeFileSync(path.join(host, 'root-only'), `${marker}\n`, { mode: 0o600 });
    fs.chmodSync(path.join(host, 'root-only'), 0o600);
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  it('exec -u NAME does not read a host /etc/passwd the container linked to', async () => {
    const run = await engine.gantry([
      'run',
      '-d',
      '--userns=auto',
      '--name',
      'passwd-link',
      'demo',
      'sh',
      '-c',
      `rm -f /etc/passwd /etc/group && ln -s ${host}/passwd /etc/passwd && ln -s ${host}/group /etc/group && touch /planted && exec sleep 600`,
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    await waitFor(
      async () =>
        (await engine.gantry(['exec', 'passwd-link', 'test', '-e', '/planted'])).exitCode === 0 || undefined,
      60_000,
      'the planted symlinks',
    );
    const exec = await engine.gantry(['exec', '-u', 'intruder', 'passwd-link', 'id']);
    expect(exec.exitCode).not.toBe(0);
    expect(exec.stderr).toContain('unable to find user intruder');
    expect(exec.stdout).not.toContain('4242');
    await engine.gantry(['rm', '-f', 'passwd-link']);
  });

  it('the container’s root cannot read a root-only host file, write kernel settings or make devices', async () => {
    const panic = fs.readFileSync('/proc/sys/kernel/panic', 'utf8').trim();
    const run = await engine.gantry([
      'run',
      '--rm',
      '--userns=auto',
      '--cap-add',
      'SYS_ADMIN',
      '--security-opt',
      'seccomp=unconfined',
      '-v',
      `${host}:/host`,
      'demo',
      'sh',
      '-c',
      [
        'cat /host/root-only 2>/dev/null && echo READ-SECRET',
        // With CAP_SYS_ADMIN of its namespace it may remount its own /proc/sys, but the host's
        // kernel settings stay the host root's (the value written is the host's own: no change).
        'mount -o remount,rw /proc/sys 2>/dev/null',
        `echo ${panic} > /proc/sys/kernel/panic 2>/dev/null && echo WROTE-SYSCTL`,
        'mknod /tmp/sda b 8 0 2>/dev/null && echo MADE-DEVICE',
        'chown 0 /host/passwd 2>/dev/null && echo CHOWNED',
        'echo done',
      ].join('; '),
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toContain('done');
    expect(run.stdout).not.toContain(marker);
    for (const escaped of ['READ-SECRET', 'WROTE-SYSCTL', 'MADE-DEVICE', 'CHOWNED'])
      expect(run.stdout).not.toContain(escaped);
    // Control: the same file is readable once it is open to others (the bind itself works).
    fs.chmodSync(path.join(host, 'root-only'), 0o644);
    const control = await engine.gantry([
      'run',
      '--rm',
      '--userns=auto',
      '-v',
      `${host}:/host`,
      'demo',
      'cat',
      '/host/root-only',
    ]);
    fs.chmodSync(path.join(host, 'root-only'), 0o600);
    expect(control.stdout).toContain(marker);
  });
});
