/**
 * gantry-oci runs a bundle with a user namespace and uid/gid mappings, as podman and containerd
 * hand one to runc: the container's root is an unprivileged uid of the host, its /dev nodes are
 * the host's bound in (a user namespace may not mknod), /sys and the cgroup mounts work, and its
 * capabilities reach no further than its own namespaces.
 */
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cgroupDirectories, GANTRY_OCI, testName, waitFor } from '../../support/engine.js';
import { describeUnless, needsFile, needsRoot } from '../../support/skip.js';

const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
const runc = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => fs.existsSync(p));
const missing = [
  needsRoot(),
  needsFile(['/bin/busybox', '/usr/bin/busybox'], 'busybox', 'busybox-static'),
  needsFile(['/usr/sbin/runc', '/usr/bin/runc'], 'runc (for `runc spec`)', 'runc'),
];

/** Host ids the container's 0..65535 map to: far from any real user of the host. */
const HOST_UID = 3_100_000;
const HOST_GID = 3_200_000;

describeUnless(missing, 'gantry-oci with a user namespace', () => {
  let base: string;
  let bundle: string;
  let stateRoot: string;
  let shared: string;
  const cgroupParent = testName(`oci-userns-${process.pid}`);
  const env = { GANTRY_CGROUP_PARENT: cgroupParent };

  const oci = async (...args: string[]) => {
    const result = await execa(process.execPath, [GANTRY_OCI, '--root', stateRoot, ...args], {
      env,
      reject: false,
      stdin: 'ignore',
    });
    return { stdout: String(result.stdout), stderr: String(result.stderr), exitCode: result.exitCode ?? 128 };
  };
  /** `create` keeps the stdio it is given open in the container: give it files, not pipes. */
  const create = async (id: string) => {
    const out = fs.openSync(path.join(base, `${id}.out`), 'w');
    try {
      const child = spawn(
        process.execPath,
        [GANTRY_OCI, '--root', stateRoot, 'create', '--bundle', bundle, id],
        {
          env: { ...process.env, ...env },
          stdio: ['ignore', out, out],
        },
      );
      const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 128)));
      expect(code, fs.readFileSync(path.join(base, `${id}.out`), 'utf8')).toBe(0);
    } finally {
      fs.closeSync(out);
    }
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests edit arbitrary spec fields
  const writeSpec = (edit: (spec: Record<string, any>) => void) => {
    const file = path.join(bundle, 'config.json');
    const spec = JSON.parse(fs.readFileSync(file, 'utf8'));
    edit(spec);
    fs.writeFileSync(file, JSON.stringify(spec));
  };

  beforeAll(async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('oci-userns')}-`));
    // As under runc, the container's root must be able to reach its rootfs through the path.
    fs.chmodSync(base, 0o711);
    bundle = path.join(base, 'bundle');
    stateRoot = path.join(base, 'state');
    shared = path.join(base, 'shared');
    fs.mkdirSync(shared, { mode: 0o777 });
    fs.chmodSync(shared, 0o777);
    const rootfs = path.join(bundle, 'rootfs');
    fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
    fs.copyFileSync(busybox!, path.join(rootfs, 'bin', 'busybox'));
    fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
    for (const applet of [
      'sh',
      'id',
      'cat',
      'ls',
      'touch',
      'stat',
      'sleep',
      'mknod',
      'grep',
      'echo',
      'hostname',
    ])
      fs.symlinkSync('busybox', path.join(rootfs, 'bin', applet));
    await execa(runc!, ['spec'], { cwd: bundle });
    // The bundle's files belong to the container's root, as a driver prepares them for runc.
    await execa('chown', ['-R', `${HOST_UID}:${HOST_GID}`, rootfs]);
    writeSpec((spec) => {
      spec.process.terminal = false;
      spec.linux.namespaces.push({ type: 'user' });
      spec.linux.uidMappings = [{ containerID: 0, hostID: HOST_UID, size: 65536 }];
      spec.linux.gidMappings = [{ containerID: 0, hostID: HOST_GID, size: 65536 }];
      spec.mounts.push({ destination: '/shared', type: 'bind', source: shared, options: ['rbind', 'rw'] });
    });
  });

  afterAll(async () => {
    for (const id of fs.existsSync(stateRoot) ? fs.readdirSync(stateRoot) : [])
      await oci('delete', '--force', id);
    const left = cgroupDirectories(cgroupParent);
    for (const dir of left) fs.rmdirSync(dir);
    fs.rmSync(base, { recursive: true, force: true });
    expect(left).toEqual([]);
  });

  it('runs as root inside and as the mapped uid outside, with the host’s device nodes bound in', async () => {
    writeSpec((spec) => {
      spec.process.args = [
        'sh',
        '-c',
        [
          'echo id=$(id -u):$(id -g)',
          'cat /proc/self/uid_map /proc/self/gid_map',
          'echo discarded > /dev/null && echo null-ok',
          'stat -c "dev %n %t:%T" /dev/null /dev/zero /dev/tty',
          'mknod /dev/made c 1 3 2>/dev/null || echo mknod-refused',
          'ls /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/class/net/lo >/dev/null && echo sys-ok',
          'touch /shared/written',
        ].join('; '),
      ];
    });
    const result = await oci('run', '--bundle', bundle, 'ids');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('id=0:0\n');
    expect(result.stdout).toMatch(new RegExp(`^\\s*0\\s+${HOST_UID}\\s+65536$`, 'm'));
    expect(result.stdout).toMatch(new RegExp(`^\\s*0\\s+${HOST_GID}\\s+65536$`, 'm'));
    expect(result.stdout).toContain('null-ok');
    expect(result.stdout).toContain('dev /dev/null 1:3');
    expect(result.stdout).toContain('dev /dev/zero 1:5');
    expect(result.stdout).toContain('dev /dev/tty 5:0');
    expect(result.stdout).toContain('mknod-refused');
    expect(result.stdout).toContain('sys-ok');
    const written = fs.statSync(path.join(shared, 'written'));
    expect([written.uid, written.gid]).toEqual([HOST_UID, HOST_GID]);
  });

  it('the host sees the mapped uid for the container’s process, and deletes it cleanly', async () => {
    writeSpec((spec) => {
      spec.process.args = ['sleep', '60'];
    });
    await create('running');
    const state = JSON.parse((await oci('state', 'running')).stdout) as { pid: number };
    expect((await oci('start', 'running')).exitCode).toBe(0);
    await waitFor(
      () => fs.readFileSync(`/proc/${state.pid}/cmdline`, 'utf8').startsWith('sleep'),
      60_000,
      'exec of sleep',
    );
    const status = fs.readFileSync(`/proc/${state.pid}/status`, 'utf8');
    expect(status).toMatch(
      new RegExp(`^Uid:\\s+${HOST_UID}\\s+${HOST_UID}\\s+${HOST_UID}\\s+${HOST_UID}$`, 'm'),
    );
    expect(status).toMatch(
      new RegExp(`^Gid:\\s+${HOST_GID}\\s+${HOST_GID}\\s+${HOST_GID}\\s+${HOST_GID}$`, 'm'),
    );
    // Its user namespace is not the host's.
    expect(fs.readlinkSync(`/proc/${state.pid}/ns/user`)).not.toBe(fs.readlinkSync('/proc/self/ns/user'));
    expect((await oci('delete', '--force', 'running')).exitCode).toBe(0);
    expect(cgroupDirectories(path.join(cgroupParent, 'running'))).toEqual([]);
  });
});
