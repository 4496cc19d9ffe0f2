/**
 * The chowned-copy fallback of a user-namespaced container's root: where the layers' filesystem
 * refuses idmapped mounts (a ramfs here, which the kernel does not let idmap) or where
 * GANTRY_USERNS_ROOTFS=chowned-copy asks for it, the layers are copied once per mapping with their
 * owners shifted, shared by the containers with that mapping and removed with the last of them.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineWithImage, engineForSuite, type TestEngine } from '../../support/engine.js';
import { describeUnless, needsRoot } from '../../support/skip.js';
import { idMappings, usernsBase } from '../../support/userns.js';

// The container root resolves its own directory under the state root: a path open to others.
const base = usernsBase('chowned');

const copiesOf = (root: string): string[] => {
  const directory = path.join(root, 'userns', 'layers');
  return fs.existsSync(directory) ? fs.readdirSync(directory) : [];
};

describeUnless([needsRoot()], 'chowned copies of the layers (GANTRY_USERNS_ROOTFS=chowned-copy)', () => {
  const engine = engineForSuite('chowned');
  beforeAll(() => {
    process.env.GANTRY_USERNS_ROOTFS = 'chowned-copy';
  });
  afterAll(() => {
    delete process.env.GANTRY_USERNS_ROOTFS;
  });

  it('owners shifted once per inode, set-user-ID kept, one copy per mapping, removed with its last user', async () => {
    // An image with a set-user-ID file, a uid 1000 file and a hard link to it.
    const made = await engine.gantry([
      'run',
      '--name',
      'chowned-base',
      'demo',
      'sh',
      '-c',
      'touch /suid /h1 && chmod 4755 /suid && chown 1000:1000 /h1 && ln /h1 /h2',
    ]);
    expect(made.exitCode, made.stderr).toBe(0);
    const committed = await engine.gantry(['commit', 'chowned-base', 'chowned-image']);
    expect(committed.exitCode, committed.stderr).toBe(0);
    expect((await engine.gantry(['rm', 'chowned-base'])).exitCode).toBe(0);

    const map = ['--uidmap', '0:3500000:65536', '--gidmap', '0:3600000:65536'];
    const script = 'stat -c "%n %u %g %a" /suid /h1 /h2 /bin/busybox; exec sleep 600';
    for (const name of ['chowned1', 'chowned2']) {
      const run = await engine.gantry([
        'run',
        '-d',
        '--name',
        name,
        ...map,
        'chowned-image',
        'sh',
        '-c',
        script,
      ]);
      expect(run.exitCode, run.stderr).toBe(0);
    }
    for (const name of ['chowned1', 'chowned2']) {
      expect(await idMappings(engine, name)).toMatchObject({ RootfsMapping: 'chowned-copy' });
    }
    const listing = await engine.gantry([
      'exec',
      'chowned1',
      'stat',
      '-c',
      '%n %u %g %a',
      '/suid',
      '/h1',
      '/h2',
      '/bin/busybox',
    ]);
    expect(listing.exitCode, listing.stderr).toBe(0);
    expect(listing.stdout.trim().split('\n')).toEqual([
      '/suid 0 0 4755',
      '/h1 1000 1000 644',
      '/h2 1000 1000 644',
      '/bin/busybox 0 0 755',
    ]);
    // One copy for the two containers; on the host its files belong to the mapped ids.
    const copies = copiesOf(engine.root);
    expect(copies).toHaveLength(1);
    const mappingDirectory = path.join(engine.root, 'userns', 'layers', copies[0]!);
    expect(fs.readdirSync(path.join(mappingDirectory, 'users')).sort()).toHaveLength(2);
    const layerCopies = fs.readdirSync(mappingDirectory).filter((name) => name !== 'users');
    const h1 = layerCopies
      .map((name) => path.join(mappingDirectory, name, 'h1'))
      .find((file) => fs.existsSync(file));
    expect(h1).toBeDefined();
    const stats = fs.statSync(h1!);
    expect([stats.uid, stats.gid, stats.nlink]).toEqual([3501000, 3601000, 2]);

    expect((await engine.gantry(['rm', '-f', 'chowned1'])).exitCode).toBe(0);
    expect(copiesOf(engine.root)).toEqual(copies);
    // The remaining user still runs on its copy.
    const still = await engine.gantry(['exec', 'chowned2', 'stat', '-c', '%u', '/h2']);
    expect(still.stdout.trim()).toBe('1000');
    expect((await engine.gantry(['rm', '-f', 'chowned2'])).exitCode).toBe(0);
    expect(copiesOf(engine.root)).toEqual([]);
  });

  it('rejects an unknown GANTRY_USERNS_ROOTFS with the accepted values', async () => {
    const run = await engine.gantry(['run', '--rm', '--userns=auto', 'demo', 'true'], {
      env: { ...engine.env, GANTRY_DEFAULT_NETWORK: '', GANTRY_USERNS_ROOTFS: 'copy' },
    });
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain('expected idmapped, chowned-copy or auto');
  });
});

describeUnless([needsRoot()], 'chowned copies where the filesystem refuses idmapped mounts', () => {
  let ramfs: string;
  let engine: TestEngine | undefined;
  beforeAll(async () => {
    ramfs = path.join(base, 'ramfs');
    fs.mkdirSync(ramfs);
    // ramfs takes no idmapped mounts (no FS_ALLOW_IDMAP): the engine must find that out itself.
    execFileSync('mount', ['-t', 'ramfs', '-o', 'mode=0711', 'ramfs', ramfs]);
    engine = await createEngineWithImage('chowned-ramfs', { root: path.join(ramfs, 'root') });
  });
  afterAll(async () => {
    try {
      await engine?.cleanup();
    } finally {
      execFileSync('umount', [ramfs]);
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  it('probes, falls back to a chowned copy, says so in inspect, and removes it with the container', async () => {
    const run = await engine!.gantry([
      'run',
      '-d',
      '--name',
      'onramfs',
      '--userns=auto',
      'demo',
      'sleep',
      '600',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(await idMappings(engine!, 'onramfs')).toMatchObject({ RootfsMapping: 'chowned-copy' });
    const listing = await engine!.gantry([
      'exec',
      'onramfs',
      'sh',
      '-c',
      'stat -c "%u %g" /bin/busybox; touch /bin/ours',
    ]);
    expect(listing.exitCode, listing.stderr).toBe(0);
    expect(listing.stdout.trim()).toBe('0 0');
    expect(copiesOf(engine!.root)).toHaveLength(1);
    expect((await engine!.gantry(['rm', '-f', 'onramfs'])).exitCode).toBe(0);
    expect(copiesOf(engine!.root)).toEqual([]);
  });
});

describe('GANTRY_USERNS_ROOTFS', () => {
  it('is read as given', async () => {
    const { chooseRootfsMapping } = await import('../../../source/runtime/userns/chowned-layers.js');
    const saved = process.env.GANTRY_USERNS_ROOTFS;
    try {
      process.env.GANTRY_USERNS_ROOTFS = 'idmapped';
      expect(await chooseRootfsMapping('/nonexistent')).toBe('idmapped');
      process.env.GANTRY_USERNS_ROOTFS = 'nope';
      await expect(chooseRootfsMapping('/')).rejects.toThrow(/expected idmapped, chowned-copy or auto/);
    } finally {
      if (saved === undefined) delete process.env.GANTRY_USERNS_ROOTFS;
      else process.env.GANTRY_USERNS_ROOTFS = saved;
    }
  });
});
