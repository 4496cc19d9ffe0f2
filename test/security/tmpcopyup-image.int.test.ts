/**
 * A hostile image against gantry-oci's `tmpcopyup` (the tmpfs that starts as a copy of what the
 * image has at its destination): the image chooses every entry the helper copies. Links out of the
 * root, device nodes onto the host's disk, FIFOs, a 100 GiB sparse file, more data than the tmpfs
 * may hold, a tree deeper than the copy goes and paths longer than PATH_MAX are put there for real;
 * the host must stay untouched, nothing of it read into the container, and a refused create must
 * leave nothing behind.
 */
import { execaSync } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { lgetxattr, lsetxattr } from '../../source/runtime/sys/libc.js';
import { testName } from '../support/engine.js';
import { editSpec, makeOciBundle, ociRunner, ociSuiteNeeds, tearDownOci } from '../support/oci-bundle.js';
import { describeUnless } from '../support/skip.js';
import { HOST_UID, mapBundle } from '../support/userns.js';
import { pauseFifos } from './support.js';

/** A v2 security.capability: cap_net_bind_service permitted and effective. */
const CAPS = Buffer.from([0x01, 0, 0, 0x02, 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

describeUnless(ociSuiteNeeds(), 'tmpcopyup against a hostile image', () => {
  let base: string;
  let bundle: string;
  let stateRoot: string;
  let original: string;
  let hostDir: string;
  const cgroupParent = testName(`sec-copyup-${process.pid}`);
  const oci = ociRunner(() => ({ base, bundle, stateRoot }), { GANTRY_CGROUP_PARENT: cgroupParent });
  let runs = 0;

  beforeAll(async () => {
    ({ base, bundle, stateRoot } = await makeOciBundle('sec-copyup', ['stat', 'readlink', 'find', 'mknod']));
    original = fs.readFileSync(`${bundle}/config.json`, 'utf8');
    hostDir = fs.mkdtempSync(path.join(base, 'host-'));
    fs.writeFileSync(`${hostDir}/host-secret`, 'host only\n');
  });

  afterAll(async () => {
    expect(await tearDownOci(oci, { base, bundle, stateRoot }, cgroupParent)).toEqual([]);
  });

  /** A fresh /data in the image, filled by `fill`, with a tmpcopyup tmpfs (`options`) over it. */
  function image(fill: (data: string) => void, args: string[], options: string[] = []): void {
    const data = `${bundle}/rootfs/data`;
    fs.rmSync(data, { recursive: true, force: true });
    fs.mkdirSync(data);
    fill(data);
    fs.writeFileSync(`${bundle}/config.json`, original);
    editSpec(bundle, (spec) => {
      spec.process.terminal = false;
      spec.process.args = args;
      spec.mounts.push({
        destination: '/data',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['tmpcopyup', ...options],
      });
    });
  }

  async function run(): Promise<{ stdout: string; stderr: string; exitCode: number }> {
    return oci('run', '--bundle', bundle, `copyup-${runs++}`);
  }

  /** The host's mount points: a refused create leaves none of its own. */
  const mountPoints = (): string[] =>
    fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[4] ?? '');

  it('links out of the root (absolute, ../.., /proc/self/root, a loop) are copied as links, never followed', async () => {
    image(
      (data) => {
        fs.symlinkSync(hostDir, `${data}/absolute`);
        fs.symlinkSync(`../../../../../../../../..${hostDir}/host-secret`, `${data}/dotdot`);
        fs.symlinkSync(`/proc/self/root${hostDir}`, `${data}/proc-root`);
        fs.symlinkSync(`/proc/1/root${hostDir}`, `${data}/proc-1-root`);
        fs.symlinkSync('loop-b', `${data}/loop-a`);
        fs.symlinkSync('loop-a', `${data}/loop-b`);
        // A directory below the destination that is a link to a host directory.
        fs.mkdirSync(`${data}/sub`);
        fs.symlinkSync(hostDir, `${data}/sub/host`);
      },
      [
        'sh',
        '-c',
        'for f in absolute dotdot proc-root proc-1-root loop-a sub/host; do readlink /data/$f; done',
      ],
    );
    const result = await run();
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\n')).toEqual([
      hostDir,
      `../../../../../../../../..${hostDir}/host-secret`,
      `/proc/self/root${hostDir}`,
      `/proc/1/root${hostDir}`,
      'loop-b',
      `${hostDir}`,
      '',
    ]);
    expect(fs.readdirSync(hostDir)).toEqual(['host-secret']);
    expect(fs.readFileSync(`${hostDir}/host-secret`, 'utf8')).toBe('host only\n');
  });

  it('a destination below a component that links to a host directory is resolved in the root', async () => {
    fs.rmSync(`${bundle}/rootfs/via`, { recursive: true, force: true });
    fs.symlinkSync(hostDir, `${bundle}/rootfs/via`);
    fs.writeFileSync(`${bundle}/config.json`, original);
    editSpec(bundle, (spec) => {
      spec.process.terminal = false;
      spec.process.args = ['sh', '-c', 'ls -A /via/inner; echo x > /via/inner/written'];
      spec.mounts.push({ destination: '/via/inner', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] });
    });
    fs.mkdirSync(`${hostDir}/inner`);
    fs.writeFileSync(`${hostDir}/inner/host-file`, 'host\n');
    try {
      const result = await run();
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toBe('');
      expect(fs.readdirSync(`${hostDir}/inner`)).toEqual(['host-file']);
      expect(mountPoints()).not.toContain(`${hostDir}/inner`);
    } finally {
      fs.rmSync(`${hostDir}/inner`, { recursive: true });
      fs.rmSync(`${bundle}/rootfs/via`, { recursive: true, force: true });
    }
  });

  it('a destination linked through /proc (mounted by then) to the host is refused, the host untouched', async () => {
    for (const link of [
      `/proc/self/root${hostDir}`,
      `/proc/1/cwd/../../../../..${hostDir}`,
      '/proc/self/fd/0',
    ]) {
      fs.rmSync(`${bundle}/rootfs/data`, { recursive: true, force: true });
      fs.symlinkSync(link, `${bundle}/rootfs/data`);
      fs.writeFileSync(`${bundle}/config.json`, original);
      editSpec(bundle, (spec) => {
        spec.process.terminal = false;
        spec.process.args = ['true'];
        spec.mounts.push({ destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] });
      });
      const id = `copyup-${runs++}`;
      const refused = await oci('create', '--bundle', bundle, id);
      expect(refused.exitCode, link).not.toBe(0);
      // /proc's magic links are not followed in the root; a plain path into /proc is refused.
      expect(refused.stderr, link).toMatch(/mount destination `\/data`.*(ELOOP|resolves into \/proc)/);
      expect(fs.existsSync(`${stateRoot}/${id}`)).toBe(false);
    }
    fs.rmSync(`${bundle}/rootfs/data`);
    expect(fs.readdirSync(hostDir)).toEqual(['host-secret']);
    expect(mountPoints()).not.toContain(hostDir);
  });

  it('device nodes, FIFOs and sockets are made as nodes, never opened: no host disk byte comes in, create never hangs', async () => {
    const zero = fs.statSync('/dev/zero');
    // A block device of the host's (the first the kernel lists: a disk or a loop device).
    const [major, minor] = fs.readdirSync('/sys/dev/block')[0]!.split(':');
    image(
      (data) => {
        execaSync('mknod', [`${data}/zero`, 'c', String(zero.rdev >> 8), String(zero.rdev & 0xff)]);
        execaSync('mknod', [`${data}/disk`, 'b', major!, minor!]);
        execaSync('mknod', [`${data}/fifo`, 'p']);
        execaSync(process.execPath, [
          '-e',
          `require('net').createServer().listen(${JSON.stringify(`${data}/sock`)}, () => process.exit(0))`,
        ]);
      },
      [
        'sh',
        '-c',
        'stat -c "%n %F" /data/zero /data/disk /data/fifo /data/sock; head -c 1 /data/disk >/dev/null || echo no-disk',
      ],
      ['nosuid', 'nodev', 'size=1m'],
    );
    const result = await run();
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout.split('\n')).toEqual([
      '/data/zero character special file',
      '/data/disk block special file',
      '/data/fifo fifo',
      '/data/sock socket',
      'no-disk',
      '',
    ]);
  });

  it('an entry swapped between its stat and its open (a device, a link out) is never read: create fails cleanly', async () => {
    const [major, minor] = fs.readdirSync('/sys/dev/block')[0]!.split(':');
    const swaps: Array<[string, (at: string) => void, RegExp]> = [
      [
        'zero',
        (at) => execaSync('mknod', [at, 'c', '1', '5']),
        /`\/data\/file` changed while it was being copied/,
      ],
      // Refused by the device cgroup the helper is already in, or found not to be a file.
      [
        'disk',
        (at) => execaSync('mknod', [at, 'b', major!, minor!]),
        /tmpcopyup: open `\/data\/file`: EPERM|`\/data\/file` changed while it was being copied/,
      ],
      ['link', (at) => fs.symlinkSync(`${hostDir}/host-secret`, at), /tmpcopyup: open `\/data\/file`: ELOOP/],
    ];
    for (const [label, make, refusal] of swaps) {
      image((data) => fs.writeFileSync(`${data}/file`, 'regular\n'), ['true'], ['size=1m']);
      const pause = await pauseFifos();
      try {
        const pausing = ociRunner(() => ({ base, bundle, stateRoot }), {
          GANTRY_CGROUP_PARENT: cgroupParent,
          GANTRY_TEST_HELPER_PAUSE: pause.env('copyup-entry'),
        });
        const creating = pausing('create', '--bundle', bundle, `copyup-swap-${label}`);
        await pause.stopped('copyup-entry');
        make(`${bundle}/rootfs/data/swap`);
        fs.renameSync(`${bundle}/rootfs/data/swap`, `${bundle}/rootfs/data/file`);
        pause.release();
        const refused = await creating;
        expect(refused.exitCode, label).not.toBe(0);
        expect(refused.stderr, label).toMatch(refusal);
        expect(fs.existsSync(`${stateRoot}/copyup-swap-${label}`)).toBe(false);
      } finally {
        pause.close();
      }
    }
    expect(fs.readFileSync(`${hostDir}/host-secret`, 'utf8')).toBe('host only\n');
  });

  it('a file the container cannot read, a set-uid file and file capabilities are copied as runc copies them', async () => {
    image(
      (data) => {
        fs.writeFileSync(`${data}/unreadable`, 'mode 000\n');
        fs.chmodSync(`${data}/unreadable`, 0);
        fs.writeFileSync(`${data}/setuid`, 'x');
        fs.chmodSync(`${data}/setuid`, 0o4755);
        fs.writeFileSync(`${data}/capable`, 'x');
        lsetxattr(`${data}/capable`, 'security.capability', CAPS);
        fs.writeFileSync(`${data}/original`, 'linked\n');
        fs.linkSync(`${data}/original`, `${data}/hardlink`);
      },
      ['sleep', '1000'],
    );
    const created = await oci('create', '--bundle', bundle, 'copyup-modes');
    expect(created.exitCode, created.stderr).toBe(0);
    const { pid } = JSON.parse((await oci('state', 'copyup-modes')).stdout);
    const inside = `/proc/${pid}/root/data`;
    expect(fs.statSync(`${inside}/unreadable`).mode & 0o7777).toBe(0);
    expect(fs.readFileSync(`${inside}/unreadable`, 'utf8')).toBe('mode 000\n');
    expect(fs.statSync(`${inside}/setuid`).mode & 0o7777).toBe(0o4755);
    expect(lgetxattr(`${inside}/capable`, 'security.capability')).toEqual(CAPS);
    // Hard links become separate files: a write to one leaves the other (and the image) as it was.
    fs.writeFileSync(`${inside}/hardlink`, 'changed\n');
    expect(fs.readFileSync(`${inside}/original`, 'utf8')).toBe('linked\n');
    expect(fs.readFileSync(`${bundle}/rootfs/data/original`, 'utf8')).toBe('linked\n');
    await oci('delete', '--force', 'copyup-modes');
  });

  it('under a user namespace: no trusted.* is copied, a file capability only as the container root one, a device node refuses create cleanly', async () => {
    const mapped = await makeOciBundle('sec-copyup-userns');
    const mappedOci = ociRunner(() => mapped, { GANTRY_CGROUP_PARENT: cgroupParent });
    try {
      // As under runc, the container's root must be able to reach its rootfs through the path.
      fs.chmodSync(mapped.base, 0o711);
      const data = `${mapped.bundle}/rootfs/data`;
      fs.mkdirSync(data);
      fs.writeFileSync(`${data}/file`, 'x');
      await mapBundle(mapped.bundle);
      // After mapBundle's chown, which would clear a file capability.
      lsetxattr(`${data}/file`, 'trusted.host', Buffer.from('only the host root sets this'));
      // A v2 capability (no root id): effective for the host's root only.
      lsetxattr(`${data}/file`, 'security.capability', CAPS);
      expect(lgetxattr(`${data}/file`, 'security.capability')).toEqual(CAPS);
      const tmpfs = {
        destination: '/data',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'nodev', 'tmpcopyup'],
      };
      editSpec(mapped.bundle, (spec) => {
        spec.process.terminal = false;
        spec.process.args = ['sleep', '1000'];
        spec.mounts.push(tmpfs);
      });
      const created = await mappedOci('create', '--bundle', mapped.bundle, 'copyup-userns');
      expect(created.exitCode, created.stderr).toBe(0);
      const { pid } = JSON.parse((await mappedOci('state', 'copyup-userns')).stdout);
      const inside = `/proc/${pid}/root/data`;
      expect(fs.readFileSync(`${inside}/file`, 'utf8')).toBe('x');
      expect(lgetxattr(`${inside}/file`, 'trusted.host')).toBeUndefined();
      // The kernel rewrote the capability as the container's root set it: a v3 one whose root id is
      // the container's root, effective in its user namespace (as the image's own v2 one is there)
      // and never for the host's root.
      const copied = lgetxattr(`${inside}/file`, 'security.capability');
      expect(copied?.readUInt32LE(0)).toBe(0x03000001);
      expect(copied?.readUInt32LE(20)).toBe(HOST_UID);
      await mappedOci('delete', '--force', 'copyup-userns');

      // mknod of a device is the init user namespace's alone: refused, as under runc.
      execaSync('mknod', [`${data}/zero`, 'c', '1', '5']);
      const refused = await mappedOci('create', '--bundle', mapped.bundle, 'copyup-userns-dev');
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toContain('tmpcopyup: mknod `/data/zero`: EPERM');
      expect(fs.existsSync(`${mapped.stateRoot}/copyup-userns-dev`)).toBe(false);
    } finally {
      for (const id of ['copyup-userns', 'copyup-userns-dev']) await mappedOci('delete', '--force', id);
      fs.rmSync(mapped.base, { recursive: true, force: true });
    }
  });

  it('a 100 GiB sparse file is copied sparse: the tmpfs holds its data only', async () => {
    image(
      (data) => {
        const fd = fs.openSync(`${data}/sparse`, 'w');
        fs.writeSync(fd, 'head', 0);
        fs.writeSync(fd, 'tail', 100 * 2 ** 30 - 4);
        fs.closeSync(fd);
      },
      ['sh', '-c', 'stat -c "%s %b" /data/sparse; head -c 4 /data/sparse; echo'],
      ['size=1m'],
    );
    const result = await run();
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const [size, blocks, head] = result.stdout.split(/\s+/);
    expect(Number(size)).toBe(100 * 2 ** 30);
    // Two pages of data at most (512-byte blocks), not 100 GiB of zeros.
    expect(Number(blocks)).toBeLessThanOrEqual(16);
    expect(head).toBe('head');
  });

  it('more data than the size= option allows: create fails with ENOSPC and leaves nothing', async () => {
    image(
      (data) => {
        fs.writeFileSync(`${data}/big`, Buffer.alloc(4 * 2 ** 20, 1));
      },
      ['true'],
      ['size=1m'],
    );
    const refused = await oci('create', '--bundle', bundle, 'copyup-full');
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toMatch(/tmpcopyup: copy `\/data\/big`: ENOSPC/);
    expect(fs.existsSync(`${stateRoot}/copyup-full`)).toBe(false);
    expect(mountPoints().filter((point) => point.startsWith(base))).toEqual([]);
  });

  it('more entries than the nr_inodes= option allows: create fails with ENOSPC and leaves nothing', async () => {
    image(
      (data) => {
        for (let i = 0; i < 300; i++) fs.writeFileSync(`${data}/entry-${i}`, '');
      },
      ['true'],
      ['nr_inodes=100'],
    );
    const refused = await oci('create', '--bundle', bundle, 'copyup-inodes');
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toMatch(/tmpcopyup: create `\/data\/entry-\d+`: ENOSPC/);
    expect(fs.existsSync(`${stateRoot}/copyup-inodes`)).toBe(false);
    expect(mountPoints().filter((point) => point.startsWith(base))).toEqual([]);
  });

  it('a tmpfs without size= is bounded by the container memory limit: create fails and leaves nothing', async () => {
    image(
      (data) => {
        fs.writeFileSync(`${data}/big`, Buffer.alloc(96 * 2 ** 20, 1));
      },
      ['true'],
    );
    editSpec(bundle, (spec) => {
      spec.linux.resources = { ...spec.linux.resources, memory: { limit: 32 * 2 ** 20, swap: 32 * 2 ** 20 } };
    });
    const refused = await oci('create', '--bundle', bundle, 'copyup-memory');
    expect(refused.stderr).toContain("the kernel's OOM killer ended it");
    expect(refused.exitCode).not.toBe(0);
    expect(fs.existsSync(`${stateRoot}/copyup-memory`)).toBe(false);
    expect(mountPoints().filter((point) => point.startsWith(base))).toEqual([]);
  });

  it('a tree deeper than the copy goes is refused with a clear error, nothing left', async () => {
    image(
      (data) => {
        execaSync('sh', [
          '-c',
          'cd "$1" && i=0; while [ $i -lt 300 ]; do mkdir d && cd d; i=$((i+1)); done',
          'sh',
          data,
        ]);
      },
      ['true'],
    );
    const refused = await oci('create', '--bundle', bundle, 'copyup-deep');
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain('is more than 256 directories deep');
    expect(fs.existsSync(`${stateRoot}/copyup-deep`)).toBe(false);
  });

  it('names of NAME_MAX bytes in a path longer than PATH_MAX are copied', async () => {
    const name = 'n'.repeat(255);
    image(
      (data) => {
        // 20 levels of 256 bytes: a 5 KiB path, built and read relative to each directory.
        execaSync('sh', [
          '-c',
          'cd "$1" && i=0; while [ $i -lt 20 ]; do mkdir "$2" && cd "$2"; i=$((i+1)); done; echo deep > leaf',
          'sh',
          data,
          name,
        ]);
      },
      ['sleep', '1000'],
    );
    try {
      const created = await oci('create', '--bundle', bundle, 'copyup-long');
      expect(created.exitCode, created.stderr).toBe(0);
      const { pid } = JSON.parse((await oci('state', 'copyup-long')).stdout);
      // find walks by descriptor and -execdir reads the leaf from its own directory: no long path.
      const found = execaSync('find', [
        `/proc/${pid}/root/data`,
        '-name',
        'leaf',
        '-execdir',
        'cat',
        '{}',
        ';',
      ]);
      expect(found.stdout).toBe('deep');
      const depth = execaSync('find', [`/proc/${pid}/root/data`, '-mindepth', '20', '-type', 'd']);
      expect(depth.stdout.split('\n')).toHaveLength(1);
      await oci('delete', '--force', 'copyup-long');
    } finally {
      // GNU rm removes a tree deeper than PATH_MAX; node's rmSync does not.
      execaSync('rm', ['-rf', `${bundle}/rootfs/data`]);
    }
  });
});
