/** gantry-oci drives a `runc spec` bundle the way containerd or podman would drive runc. */
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it, onTestFinished } from 'vitest';
import { cgroupDirectories, testName, waitFor } from '../../support/engine.js';
import {
  editSpec,
  makeOciBundle,
  ociRunner,
  ociSuiteNeeds,
  RECVTTY_C,
  tearDownOci,
} from '../../support/oci-bundle.js';
import { describeUnless } from '../../support/skip.js';

describeUnless(ociSuiteNeeds(), 'gantry-oci', () => {
  let base: string;
  let bundle: string;
  let stateRoot: string;
  const cgroupParent = testName(`oci-${process.pid}`);
  const env = { GANTRY_CGROUP_PARENT: cgroupParent };
  const oci = ociRunner(() => ({ base, bundle, stateRoot }), env);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests edit arbitrary spec fields
  const writeSpec = (edit: (spec: Record<string, any>) => void) => editSpec(bundle, edit);

  beforeAll(async () => {
    ({ base, bundle, stateRoot } = await makeOciBundle('oci'));
  });

  afterAll(async () => {
    // What delete left is the finding; it is removed by hand only after it was recorded.
    expect(await tearDownOci(oci, { base, bundle, stateRoot }, cgroupParent)).toEqual([]);
  });

  it('runs the bundle `runc spec` writes, in the foreground, with its exit code', async () => {
    writeSpec((spec) => {
      spec.process.terminal = false;
      spec.process.args = [
        'sh',
        '-c',
        'echo hello from $(hostname) as $$; touch /x 2>/dev/null || echo read-only-root; exit 3',
      ];
    });
    const result = await oci('run', '--bundle', bundle, 'fg');
    expect(result.stdout).toBe('hello from runc as 1\nread-only-root\n');
    expect(result.exitCode).toBe(3);
    expect(fs.existsSync(path.join(stateRoot, 'fg'))).toBe(false);
  });

  it('starts the process with every signal at its default: `yes | head` ends', async () => {
    writeSpec((spec) => {
      spec.process.terminal = false;
      spec.process.args = [
        'sh',
        '-c',
        "grep -E '^Sig(Ign|Blk)' /proc/self/status; yes 0123456789 | head -n 100000 | wc -l",
      ];
    });
    const result = await oci('run', '--bundle', bundle, 'signals');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/SigIgn:\s+0000000000000000/);
    expect(result.stdout).toMatch(/SigBlk:\s+0000000000000000/);
    expect(result.stdout).toMatch(/^\s*100000\s*$/m);
  });

  it('goes through create, start, state, kill and delete with the states the spec defines', async () => {
    writeSpec((spec) => {
      spec.process.terminal = false;
      spec.process.args = ['sleep', '60'];
    });
    const pidFile = path.join(base, 'pid');
    const created = await oci('create', '--bundle', bundle, '--pid-file', pidFile, 'c1');
    expect(created.exitCode).toBe(0);
    const state = JSON.parse((await oci('state', 'c1')).stdout);
    expect(state).toMatchObject({ ociVersion: expect.any(String), id: 'c1', status: 'created', bundle });
    expect(state.pid).toBe(Number(fs.readFileSync(pidFile, 'utf8')));
    // Created but not started: the user's process has not been executed yet.
    expect(fs.readFileSync(`/proc/${state.pid}/cmdline`, 'utf8')).not.toContain('sleep');
    expect((await oci('start', 'c1')).exitCode).toBe(0);
    await waitFor(
      () => fs.readFileSync(`/proc/${state.pid}/cmdline`, 'utf8').startsWith('sleep'),
      60_000,
      'exec of sleep',
    );
    expect(JSON.parse((await oci('state', 'c1')).stdout).status).toBe('running');
    expect((await oci('start', 'c1')).exitCode).not.toBe(0);
    const refused = await oci('delete', 'c1');
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain('not stopped');
    expect((await oci('kill', 'c1', 'KILL')).exitCode).toBe(0);
    await waitFor(
      async () => JSON.parse((await oci('state', 'c1')).stdout).status === 'stopped',
      60_000,
      'stopped',
    );
    expect((await oci('delete', 'c1')).exitCode).toBe(0);
    expect((await oci('state', 'c1')).exitCode).not.toBe(0);
    expect(cgroupDirectories(path.join(cgroupParent, 'c1'))).toEqual([]);
  });

  it('runs the hooks of every stage with the state on stdin', async () => {
    const log = path.join(base, 'hooks.log');
    const script = path.join(base, 'hook.sh');
    fs.writeFileSync(script, `#!/bin/sh\necho "$1 $(cat)" >> ${log}\n`, { mode: 0o755 });
    const hook = (stage: string) => [{ path: script, args: ['hook.sh', stage] }];
    writeSpec((spec) => {
      spec.process.args = ['true'];
      spec.hooks = {
        prestart: hook('prestart'),
        createRuntime: hook('createRuntime'),
        createContainer: hook('createContainer'),
        poststart: hook('poststart'),
        poststop: hook('poststop'),
      };
    });
    expect((await oci('run', '--bundle', bundle, 'hooked')).exitCode).toBe(0);
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
    expect(lines.map((line) => line.split(' ')[0])).toEqual([
      'prestart',
      'createRuntime',
      'createContainer',
      'poststart',
      'poststop',
    ]);
    for (const line of lines) expect(JSON.parse(line.slice(line.indexOf(' ') + 1)).id).toBe('hooked');
    // In the container's own hooks the state has its pid, and createContainer sees "creating".
    const inside = JSON.parse(lines[2]!.slice(lines[2]!.indexOf(' ') + 1)) as { status: string; pid: number };
    expect(inside.status).toBe('creating');
    expect(inside.pid).toBeGreaterThan(0);
    writeSpec((spec) => {
      spec.hooks = { createRuntime: [{ path: '/bin/false' }] };
    });
    const failed = await oci('run', '--bundle', bundle, 'badhook');
    expect(failed.exitCode).not.toBe(0);
    expect(failed.stderr).toContain('createRuntime hook /bin/false failed');
    expect(fs.existsSync(path.join(stateRoot, 'badhook'))).toBe(false);
    writeSpec((spec) => {
      delete spec.hooks;
    });
  });

  it('ends every process of a container without a pid namespace, and honours run --keep', async () => {
    writeSpec((spec) => {
      spec.linux.namespaces = spec.linux.namespaces.filter((ns: { type: string }) => ns.type !== 'pid');
      spec.process.args = ['sh', '-c', 'sleep 1001 & sleep 1002 & wait'];
    });
    onTestFinished(() =>
      writeSpec((spec) => {
        if (!spec.linux.namespaces.some((ns: { type: string }) => ns.type === 'pid'))
          spec.linux.namespaces.push({ type: 'pid' });
      }),
    );
    expect((await oci('run', '-d', '--bundle', bundle, 'nopidns')).exitCode).toBe(0);
    const cgroupProcs = () =>
      cgroupDirectories(path.join(cgroupParent, 'nopidns'))
        .map((dir) => path.join(dir, 'cgroup.procs'))
        .filter((file) => fs.existsSync(file))
        .flatMap((file) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean));
    await waitFor(
      () => new Set(cgroupProcs()).size >= 3 || undefined,
      60_000,
      'the shell and its two sleeps',
    );
    const deleted = await oci('delete', '--force', 'nopidns');
    expect(deleted.exitCode, deleted.stderr).toBe(0);
    expect(cgroupDirectories(path.join(cgroupParent, 'nopidns'))).toEqual([]);

    // Foreground run: the shell's exit code at once, its background child ended with it (a run
    // that waited for the sleep would run into the test's timeout; its cgroup going says the
    // child is gone, where a clock on a loaded machine would say little).
    writeSpec((spec) => {
      spec.process.args = ['sh', '-c', 'sleep 3600 & exit 4'];
    });
    const ran = await oci('run', '--bundle', bundle, 'nopidns-run');
    expect(ran.exitCode, ran.stderr).toBe(4);
    expect(cgroupDirectories(path.join(cgroupParent, 'nopidns-run'))).toEqual([]);
    expect(fs.existsSync(path.join(stateRoot, 'nopidns-run'))).toBe(false);

    writeSpec((spec) => {
      spec.linux.namespaces.push({ type: 'pid' });
      spec.process.args = ['true'];
    });
    expect((await oci('run', '--keep', '--bundle', bundle, 'kept')).exitCode).toBe(0);
    expect(JSON.parse((await oci('state', 'kept')).stdout).status).toBe('stopped');
    expect((await oci('delete', 'kept')).exitCode).toBe(0);
  });

  it('takes runc details: kill 0, TERM to a created container, HOME, a missing cwd, top-level cgroupsPath', async () => {
    const name = testName(`oci-top-${process.pid}`);
    writeSpec((spec) => {
      spec.process.args = ['sh', '-c', 'echo "$HOME $(pwd)"'];
      spec.process.cwd = '/made/for/it';
      spec.linux.cgroupsPath = `/${name}`;
    });
    onTestFinished(() =>
      writeSpec((spec) => {
        spec.process.cwd = '/';
        delete spec.linux.cgroupsPath;
      }),
    );
    const created = await oci('create', '--bundle', bundle, 'details');
    expect(created.exitCode, created.stderr).toBe(0);
    // An absolute cgroupsPath is a child of the cgroup root, as the spec says.
    expect(cgroupDirectories(name).length).toBeGreaterThan(0);
    expect((await oci('kill', 'details', '0')).exitCode).toBe(0);
    expect((await oci('kill', 'details', 'TERM')).exitCode).toBe(0);
    await waitFor(
      async () => JSON.parse((await oci('state', 'details')).stdout).status === 'stopped' || undefined,
      60_000,
      'TERM to end the created container',
    );
    expect((await oci('delete', 'details')).exitCode).toBe(0);
    expect(cgroupDirectories(name)).toEqual([]);
    writeSpec((spec) => {
      delete spec.linux.cgroupsPath;
    });
    const ran = await oci('run', '--bundle', bundle, 'details-run');
    expect(ran.stdout).toBe('/ /made/for/it\n');
    const socket = await oci(
      'create',
      '--console-socket',
      path.join(base, 'no.sock'),
      '--bundle',
      bundle,
      'nosock',
    );
    expect(socket.exitCode).not.toBe(0);
    expect(socket.stderr).toContain('process.terminal is false');
    expect(fs.existsSync(path.join(stateRoot, 'nosock'))).toBe(false);
    writeSpec((spec) => {
      spec.process.cwd = '/';
    });
  });

  it('joins a namespace given by path', async () => {
    writeSpec((spec) => {
      spec.process.args = ['sleep', '60'];
    });
    expect((await oci('run', '-d', '--bundle', bundle, 'owner')).exitCode).toBe(0);
    const owner = JSON.parse((await oci('state', 'owner')).stdout).pid as number;
    writeSpec((spec) => {
      spec.process.args = ['hostname'];
      spec.hostname = undefined;
      spec.linux.namespaces = spec.linux.namespaces.map((ns: { type: string }) =>
        ns.type === 'uts' ? { type: 'uts', path: `/proc/${owner}/ns/uts` } : ns,
      );
    });
    const joined = await oci('run', '--bundle', bundle, 'joiner');
    expect(joined.stdout.trim()).toBe('runc');
    await oci('delete', '--force', 'owner');
    writeSpec((spec) => {
      spec.hostname = 'runc';
      spec.linux.namespaces = spec.linux.namespaces.map((ns: { type: string }) =>
        ns.type === 'uts' ? { type: 'uts' } : ns,
      );
    });
  });

  it('honours rlimits, capabilities, masked and read-only paths of the spec', async () => {
    writeSpec((spec) => {
      spec.process.args = [
        'sh',
        '-c',
        'ulimit -n; grep CapBnd /proc/self/status; cat /proc/keys | wc -c; echo x > /proc/sysrq-trigger 2>/dev/null || echo ro',
      ];
      spec.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 321, hard: 654 }];
    });
    const result = await oci('run', '--bundle', bundle, 'limits');
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim());
    expect(lines[0]).toBe('321');
    expect(lines[1]).toBe('CapBnd:\t0000000020000420'.replace('\t', '\t'));
    expect(lines[2]).toBe('0');
    expect(lines[3]).toBe('ro');
  });

  it('sends the pty master of a terminal container to --console-socket', async () => {
    // A console receiver like containerd's: accept, take the fd (SCM_RIGHTS), read the terminal.
    const source = path.join(base, 'recvtty.c');
    fs.writeFileSync(source, RECVTTY_C);
    const receiver = path.join(base, 'recvtty');
    await execa('cc', ['-o', receiver, source]);
    const socket = path.join(base, 'console.sock');
    const reader = execa(receiver, [socket], { reject: false, buffer: true });
    await waitFor(() => fs.existsSync(socket), 60_000, 'the console socket');
    writeSpec((spec) => {
      spec.process.terminal = true;
      spec.process.args = ['sh', '-c', 'tty; test -t 1 && echo is-a-tty'];
    });
    expect((await oci('create', '--bundle', bundle, '--console-socket', socket, 'tty1')).exitCode).toBe(0);
    expect((await oci('start', 'tty1')).exitCode).toBe(0);
    const received = await reader;
    expect(String(received.stdout)).toMatch(/\/dev\/pts\/0\r?\nis-a-tty/);
    await waitFor(
      async () => JSON.parse((await oci('state', 'tty1')).stdout).status === 'stopped',
      60_000,
      'stopped',
    );
    expect((await oci('delete', 'tty1')).exitCode).toBe(0);
    writeSpec((spec) => {
      spec.process.terminal = false;
    });
  });

  it('applies the seccomp profile of the spec', async () => {
    writeSpec((spec) => {
      spec.process.terminal = false;
      spec.process.args = ['sh', '-c', 'mkdir /tmp/x 2>&1; echo mkdir=$?; ls / > /dev/null && echo ls-ok'];
      spec.root.readonly = false;
      spec.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
      };
    });
    const result = await oci('run', '--bundle', bundle, 'filtered');
    expect(result.stdout).toContain('Operation not permitted');
    expect(result.stdout).toContain('mkdir=1');
    expect(result.stdout).toContain('ls-ok');
    writeSpec((spec) => {
      spec.root.readonly = true;
      delete spec.linux.seccomp;
    });
  });

  it('rejects a malformed config.json with a message that names the problem', async () => {
    const broken = path.join(base, 'broken');
    fs.mkdirSync(path.join(broken, 'rootfs'), { recursive: true });
    fs.writeFileSync(path.join(broken, 'config.json'), '{"ociVersion": "1.0.2", "process": ');
    const syntax = await oci('run', '--bundle', broken, 'b1');
    expect(syntax.exitCode).not.toBe(0);
    expect(syntax.stderr).toContain('not valid JSON');
    fs.writeFileSync(
      path.join(broken, 'config.json'),
      JSON.stringify({
        ociVersion: '1.0.2',
        process: { args: [], cwd: '/', user: { uid: 0, gid: 0 } },
        root: { path: 'rootfs' },
        linux: { namespaces: [{ type: 'mount' }] },
      }),
    );
    const empty = await oci('run', '--bundle', broken, 'b2');
    expect(empty.stderr).toContain('process.args must be a non-empty array');
    fs.writeFileSync(
      path.join(broken, 'config.json'),
      JSON.stringify({
        ociVersion: '1.0.2',
        process: {
          args: ['sh'],
          cwd: '/',
          user: { uid: 0, gid: 0 },
          capabilities: { bounding: ['CAP_FLY'] },
        },
        root: { path: 'rootfs' },
        linux: { namespaces: [{ type: 'mount' }] },
      }),
    );
    const cap = await oci('run', '--bundle', broken, 'b3');
    expect(cap.stderr).toContain('unknown capability "CAP_FLY"');
    expect(fs.readdirSync(stateRoot).filter((id) => id.startsWith('b'))).toEqual([]);
  });
});
