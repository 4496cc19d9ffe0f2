/**
 * Images built from the host's binaries: the single layer is a complete root filesystem, so
 * chroot into the unpacked layer proves the shell and its libraries work.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FROM_HOST_CREATED_BY, fromHost } from '../../../source/runtime/images/from-host.js';
import { inspectImage } from '../../../source/runtime/images/inspect.js';
import { ImageStore } from '../../../source/runtime/images/store.js';
import { historyRows, layerTree } from '../../../source/runtime/images/tree/layer-tree.js';
import { StateLayout } from '../../../source/runtime/paths.js';
import { makeTempDirectory } from './support.js';
import { describeUnless, needsCommand, needsFile, needsRoot, skipIf } from '../../support/skip.js';

const noBusybox = needsFile(['/bin/busybox', '/usr/bin/busybox'], 'busybox', 'busybox-static');

function inChroot(rootfs: string, script: string): string {
  return execFileSync('chroot', [rootfs, '/bin/sh', '-c', script], {
    encoding: 'utf8',
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
  });
}

describeUnless([needsRoot(), needsCommand('chroot', 'coreutils')], 'image from host binaries', () => {
  let base: string;
  let store: ImageStore;

  beforeAll(() => {
    base = makeTempDirectory('images-from-host');
    store = new ImageStore(new StateLayout(path.join(base, 'state')));
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  it('builds a busybox image with a working /bin/sh', async (context) => {
    skipIf(context, noBusybox);
    const before = new Date().toISOString();
    const record = await store.fromHost('host-busybox');
    const after = new Date().toISOString();
    expect(record.names).toEqual(['host-busybox:latest']);
    // Made now (image ls says so), while the config's fixed time keeps the digest reproducible.
    expect(record.created >= before && record.created <= after, record.created).toBe(true);
    expect((await store.resolve('host-busybox')).created).toBe(record.created);
    const { config, layerDirs } = await store.resolveForRun('host-busybox');
    expect(layerDirs).toHaveLength(1);
    const rootfs = layerDirs[0]!;
    expect(config.config?.Cmd).toEqual(['/bin/sh']);
    expect(config.config?.Env?.[0]).toMatch(/^PATH=.*\/bin/);
    expect(config.history?.[0]?.created_by).toBe(FROM_HOST_CREATED_BY);
    // Every place that shows a time shows when it was made, not the config's fixed time.
    expect(historyRows(record, config)[0]?.created).toBe(record.created);
    expect(inspectImage(record, config).Created).toBe(record.created);
    expect((await layerTree(store, record, { changes: false })).layers[0]?.created).toBe(record.created);
    expect(fs.readlinkSync(path.join(rootfs, 'bin/sh'))).toBe('busybox');
    expect(fs.statSync(path.join(rootfs, 'tmp')).mode & 0o7777).toBe(0o1777);
    expect(fs.readFileSync(path.join(rootfs, 'etc/passwd'), 'utf8')).toContain('nobody:x:65534:65534');
    expect(inChroot(rootfs, 'echo ok')).toBe('ok\n');
    expect(inChroot(rootfs, 'ls /etc | sort | tr "\\n" " "; id -u')).toBe('group passwd 0\n');
  });

  it('builds the same layer twice and shares it', async (context) => {
    skipIf(context, noBusybox);
    const first = await store.fromHost('again:1');
    const second = await store.fromHost('again:2');
    expect(second.id).toBe(first.id);
    expect(second.layers[0]!.diffId).toBe(first.layers[0]!.diffId);
    expect((await store.resolve('again:1')).names).toEqual(expect.arrayContaining(['again:1', 'again:2']));
    expect(fs.readdirSync(path.join(base, 'state', 'layers')).length).toBeLessThanOrEqual(2);
  });

  it('builds from /bin/sh and coreutils with their shared libraries', async () => {
    const record = await fromHost(store, 'host-binaries:latest', { strategy: 'binaries' });
    const { layerDirs, config } = await store.resolveForRun(record.id);
    const rootfs = layerDirs[0]!;
    expect(fs.lstatSync(path.join(rootfs, 'bin/sh')).isFile()).toBe(true);
    expect(inChroot(rootfs, 'echo ok')).toBe('ok\n');
    expect(inChroot(rootfs, 'ls /bin | grep -c "^cat$"; cat /etc/group | head -n 1; echo a b | wc -w')).toBe(
      '1\nroot:x:0:\n2\n',
    );
    // No stray file: every regular file is the shell, a tool, a library or the two /etc files.
    expect(config.history?.[0]?.comment).toMatch(/^host binaries: sh ls cat/);
    const again = await fromHost(store, 'host-binaries:again', { strategy: 'binaries' });
    expect(again.id).toBe(record.id);
  });

  it('leaves no temporary files', () => {
    expect(fs.readdirSync(path.join(base, 'state', 'tmp'))).toEqual([]);
  });
});
