/**
 * `gantry cp` on the real kernel: docker's path rules both ways, tar streams with `-`, running
 * and stopped containers (volumes included), owners and user.* xattrs with and without -a, -L, and a hostile
 * container that plants symlinks to host paths: every path resolves inside its root, so the host
 * is never read or written through them.
 */
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { lgetxattr, lsetxattr } from '../../../source/runtime/sys/libc.js';
import { engineForSuite, GANTRY, testName } from '../../support/engine.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

describeUnless(needsRoot(), 'gantry cp', () => {
  const engine = engineForSuite('cp');
  let work = '';
  /** A host directory the hostile container names in its symlinks. */
  let hostTarget = '';

  const gantry = async (args: string[], input?: Buffer) => {
    const result = await engine.gantry(args, input === undefined ? {} : { input });
    if (result.exitCode !== 0) throw new Error(`gantry ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const hostTargetState = () =>
    fs
      .readdirSync(hostTarget)
      .map((name) => `${name}:${fs.readFileSync(path.join(hostTarget, name), 'utf8')}`)
      .sort();

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('cp')}-`));
    hostTarget = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('cp-target')}-`));
    fs.writeFileSync(path.join(hostTarget, 'secret'), 'host only\n');
    await gantry([
      'run',
      '-d',
      '--name',
      'box',
      '-v',
      'cpvol:/vol',
      'demo',
      'sh',
      '-c',
      [
        'mkdir -p /d/sub && echo one > /d/a && echo two > /d/sub/b && ln -s /etc/passwd /d/link',
        'echo owned > /owned && chown 1000:1001 /owned',
        // Hostile: links to the host directory's path, and the same path made inside the container.
        `ln -s ${hostTarget} /leak && mkdir -p /inside && ln -s ${hostTarget} /inside/to-host`,
        'exec sleep 600',
      ].join('; '),
    ]);
    const ready = async () => (await engine.gantry(['exec', 'box', 'test', '-L', '/leak'])).exitCode === 0;
    for (let i = 0; i < 600 && !(await ready()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  });
  afterAll(() => {
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(hostTarget, { recursive: true, force: true });
  });

  it('copies a file and a directory out with docker path rules', async () => {
    const out = path.join(work, 'out1');
    fs.mkdirSync(out);
    await gantry(['cp', 'box:/d/a', out]);
    expect(fs.readFileSync(path.join(out, 'a'), 'utf8')).toBe('one\n');
    await gantry(['cp', 'box:/d/a', path.join(out, 'renamed')]);
    expect(fs.readFileSync(path.join(out, 'renamed'), 'utf8')).toBe('one\n');
    await gantry(['cp', 'box:/d', path.join(out, 'newdir')]);
    expect(fs.readFileSync(path.join(out, 'newdir', 'sub', 'b'), 'utf8')).toBe('two\n');
    // A symlink is copied as a link, never followed; -L copies what it points to.
    expect(fs.readlinkSync(path.join(out, 'newdir', 'link'))).toBe('/etc/passwd');
    await gantry(['cp', 'box:/d', out]);
    expect(fs.existsSync(path.join(out, 'd', 'sub', 'b'))).toBe(true);
    fs.mkdirSync(path.join(out, 'contents'));
    await gantry(['cp', 'box:/d/.', path.join(out, 'contents')]);
    expect(fs.readdirSync(path.join(out, 'contents')).sort()).toEqual(['a', 'link', 'sub']);
    await gantry(['cp', '-L', 'box:/d/link', path.join(out, 'followed')]);
    expect(fs.lstatSync(path.join(out, 'followed')).isFile()).toBe(true);
    expect(fs.readFileSync(path.join(out, 'followed'), 'utf8')).toContain('root:');
    const dirToFile = await engine.gantry(['cp', 'box:/d', path.join(out, 'a')]);
    expect(dirToFile.exitCode).toBe(1);
    expect(dirToFile.stderr).toContain('cannot copy a directory to a file');
    const missing = await engine.gantry(['cp', 'box:/nope', out]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('Could not find the file /nope in container box');
  });

  it('copies in, into volumes too, and keeps owners only with -a', async () => {
    const file = path.join(work, 'in.txt');
    fs.writeFileSync(file, 'from host\n');
    fs.chownSync(file, 1234, 1235);
    await gantry(['cp', file, 'box:/tmp/']);
    await gantry(['cp', '-a', file, 'box:/tmp/kept.txt']);
    await gantry(['cp', file, 'box:/vol/in-volume']);
    const listed = await gantry(['exec', 'box', 'stat', '-c', '%n %u:%g', '/tmp/in.txt', '/tmp/kept.txt']);
    expect(listed.trim().split('\n')).toEqual(['/tmp/in.txt 0:0', '/tmp/kept.txt 1234:1235']);
    expect(fs.readFileSync(path.join(engine.root, 'volumes', 'cpvol', '_data', 'in-volume'), 'utf8')).toBe(
      'from host\n',
    );
    const out = path.join(work, 'owners');
    fs.mkdirSync(out);
    await gantry(['cp', 'box:/owned', path.join(out, 'plain')]);
    await gantry(['cp', '-a', 'box:/owned', path.join(out, 'archived')]);
    expect([fs.statSync(path.join(out, 'plain')).uid, fs.statSync(path.join(out, 'archived')).uid]).toEqual([
      0, 1000,
    ]);
    const noParent = await engine.gantry(['cp', file, 'box:/no/such/dir/x']);
    expect(noParent.exitCode).toBe(1);
    expect(noParent.stderr).toContain('no such directory');
    const noSource = await engine.gantry(['cp', path.join(work, 'absent'), 'box:/tmp/']);
    expect(noSource.stderr).toContain('no such file or directory');
  });

  it('streams a tar archive with - both ways', async () => {
    const archive = await execa('tar', ['-C', work, '-cf', '-', 'in.txt'], { encoding: 'buffer' });
    await gantry(['cp', '-', 'box:/tmp'], Buffer.from(archive.stdout));
    expect((await gantry(['exec', 'box', 'cat', '/tmp/in.txt'])).trim()).toBe('from host');
    const streamed = await execa(GANTRY, ['cp', 'box:/d', '-'], { env: engine.env, encoding: 'buffer' });
    const out = await execa('tar', ['-tf', '-'], { input: Buffer.from(streamed.stdout) });
    expect(out.stdout.split('\n').filter(Boolean).sort()).toEqual([
      'd/',
      'd/a',
      'd/link',
      'd/sub/',
      'd/sub/b',
    ]);
  });

  it('copies to and from a stopped container, its volumes included, and leaves no mount', async () => {
    await gantry([
      'create',
      '--name',
      'stopped',
      '-v',
      'cpvol:/vol',
      'demo',
      'sh',
      '-c',
      'cat /given /vol/in-volume',
    ]);
    await gantry(['cp', path.join(work, 'in.txt'), 'stopped:/given']);
    expect((await gantry(['start', '-a', 'stopped'])).trim().split('\n')).toEqual(['from host', 'from host']);
    const out = path.join(work, 'from-stopped');
    await gantry(['cp', 'stopped:/vol/in-volume', out]);
    expect(fs.readFileSync(out, 'utf8')).toBe('from host\n');
    const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    expect(mounts).not.toContain(engine.root);
    await gantry(['rm', 'stopped']);
  });

  it('refuses to copy into a read-only bind of a stopped container, leaving the host directory as it was', async () => {
    const readOnly = path.join(work, 'ro-bind');
    fs.mkdirSync(readOnly);
    await gantry(['create', '--name', 'stopped-ro', '-v', `${readOnly}:/ro:ro`, 'demo', 'true']);
    const refused = await engine.gantry(['cp', path.join(work, 'in.txt'), 'stopped-ro:/ro/in.txt']);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain('read-only mount');
    expect(fs.readdirSync(readOnly)).toEqual([]);
    await gantry(['rm', 'stopped-ro']);
  });

  it('never reads the host through a symlink the container planted', async () => {
    // /leak -> the host directory's path: inside the container that path does not exist.
    const leak = await engine.gantry(['cp', 'box:/leak/secret', path.join(work, 'stolen')]);
    expect(leak.exitCode).toBe(1);
    expect(leak.stderr).toContain('Could not find the file');
    expect(fs.existsSync(path.join(work, 'stolen'))).toBe(false);
    const followed = await engine.gantry(['cp', '-L', 'box:/leak', path.join(work, 'stolen-dir')]);
    expect(followed.exitCode).toBe(1);
    expect(fs.existsSync(path.join(work, 'stolen-dir'))).toBe(false);
    // Copied out as the link it is; the host file is not in the copy.
    await gantry(['cp', 'box:/inside', path.join(work, 'inside')]);
    expect(fs.readlinkSync(path.join(work, 'inside', 'to-host'))).toBe(hostTarget);
    const archive = await gantry(['cp', 'box:/inside', '-']);
    expect(archive).not.toContain('host only');
  });

  it('never writes the host through a symlink the container planted', async () => {
    const before = hostTargetState();
    const file = path.join(work, 'in.txt');
    fs.writeFileSync(file, 'from host\n');
    // The parent resolves inside the container (no such directory there): refused.
    const through = await engine.gantry(['cp', file, 'box:/leak/planted']);
    expect(through.exitCode).toBe(1);
    // The container makes the host directory's path its own: the file lands there, inside it.
    await gantry(['exec', 'box', 'mkdir', '-p', hostTarget]);
    await gantry(['cp', file, 'box:/leak/planted']);
    expect((await gantry(['exec', 'box', 'cat', `${hostTarget}/planted`])).trim()).toBe('from host');
    await gantry(['cp', file, 'box:/inside/to-host/planted2']);
    // A tar stream whose link is followed by a file under it is refused, as is "..".
    const evil = path.join(work, 'evil');
    fs.mkdirSync(evil);
    fs.symlinkSync(hostTarget, path.join(evil, 'link'));
    const hostile = path.join(work, 'hostile.tar');
    await execa('tar', ['-C', evil, '-cf', hostile, 'link']);
    fs.rmSync(path.join(evil, 'link'));
    fs.mkdirSync(path.join(evil, 'link'));
    fs.writeFileSync(path.join(evil, 'link', 'pwned'), 'pwned\n');
    // Appended: the archive holds the link, then a file below it.
    await execa('tar', ['-C', evil, '-rf', hostile, 'link/pwned']);
    const combined = fs.readFileSync(hostile);
    await gantry(['exec', 'box', 'mkdir', '-p', '/x']);
    const refused = await engine.gantry(['cp', '-', 'box:/x'], { input: combined });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('a symlink is never followed when writing');
    const dotdot = await execa(
      'tar',
      ['-C', evil, '-cf', '-', '-P', '--transform', 's|^link/pwned|../../../pwned|', 'link/pwned'],
      {
        encoding: 'buffer',
      },
    );
    const climbing = await engine.gantry(['cp', '-', 'box:/x'], { input: Buffer.from(dotdot.stdout) });
    expect(climbing.exitCode).toBe(1);
    expect(climbing.stderr).toContain('".."');
    expect(hostTargetState()).toEqual(before);
  });

  it('-a keeps user.* extended attributes both ways and in a tar stream; never other namespaces, nothing without -a', async () => {
    const id = (await gantry(['inspect', '-f', '{{.Id}}', 'box'])).trim();
    const upper = path.join(engine.root, 'containers', id, 'upper');
    await gantry(['exec', 'box', 'sh', '-c', 'mkdir -p /xa/dir /xa/untarred && echo data > /xa/dir/file']);
    // busybox has no setfattr: set them on the writable layer, whose xattrs overlayfs shows.
    lsetxattr(path.join(upper, 'xa/dir'), 'user.origin', Buffer.from('container-dir'));
    lsetxattr(path.join(upper, 'xa/dir/file'), 'user.origin', Buffer.from('container-file'));
    // What the container's root could set to grant itself something on the host: never copied.
    lsetxattr(path.join(upper, 'xa/dir/file'), 'trusted.gantry-test', Buffer.from('granted'));
    const xattr = (file: string, name: string) => lgetxattr(file, name)?.toString();

    await gantry(['cp', '-a', 'box:/xa/dir', path.join(work, 'xattr-a')]);
    expect(xattr(path.join(work, 'xattr-a'), 'user.origin')).toBe('container-dir');
    expect(xattr(path.join(work, 'xattr-a', 'file'), 'user.origin')).toBe('container-file');
    expect(xattr(path.join(work, 'xattr-a', 'file'), 'trusted.gantry-test')).toBeUndefined();
    await gantry(['cp', 'box:/xa/dir', path.join(work, 'xattr-plain')]);
    expect(xattr(path.join(work, 'xattr-plain', 'file'), 'user.origin')).toBeUndefined();

    const hostFile = path.join(work, 'xattr-host');
    fs.writeFileSync(hostFile, 'from the host\n');
    lsetxattr(hostFile, 'user.from-host', Buffer.from('host-value'));
    await gantry(['cp', '-a', hostFile, 'box:/xa/from-host']);
    expect(xattr(path.join(upper, 'xa/from-host'), 'user.from-host')).toBe('host-value');
    await gantry(['cp', hostFile, 'box:/xa/from-host-plain']);
    expect(xattr(path.join(upper, 'xa/from-host-plain'), 'user.from-host')).toBeUndefined();

    const streamed = await gantry(['cp', '-a', 'box:/xa/dir/file', '-']);
    expect(streamed).toContain('SCHILY.xattr.user.origin=container-file');
    expect(streamed).not.toContain('trusted.gantry-test');
    await gantry(['cp', '-a', '-', 'box:/xa/untarred'], Buffer.from(streamed));
    expect(xattr(path.join(upper, 'xa/untarred/file'), 'user.origin')).toBe('container-file');
  });
});
