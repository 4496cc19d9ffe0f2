/**
 * Named and anonymous volumes on the real kernel: `volume create|ls|inspect|rm|prune` with
 * docker's fields, `-v NAME:/path` made on first use and filled from the image as docker fills
 * it, an image's VOLUME, `rm -v`, `--rm`, `--volumes-from`, and the refusals docker makes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { engineForSuite, testName } from '../../support/engine.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

describeUnless(needsRoot(), 'volumes', () => {
  const engine = engineForSuite('volumes');
  /** A host directory a hostile image's symlink names: nothing may be read from it or written to it. */
  let hostTarget = '';

  const gantry = async (args: string[]) => {
    const result = await engine.gantry(args);
    if (result.exitCode !== 0) throw new Error(`gantry ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };

  beforeAll(async () => {
    hostTarget = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('volume-target')}-`));
    fs.writeFileSync(path.join(hostTarget, 'host-secret'), 'host\n');
    const context = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('volume-image')}-`));
    fs.writeFileSync(
      path.join(context, 'Containerfile'),
      [
        'FROM demo',
        // Owners, modes, a symlink, a hard link and a subdirectory for the copy to keep.
        'RUN mkdir -p /data/sub && echo seed > /data/seed && ln -s /etc/passwd /data/link && ln /data/seed /data/sub/hard && chown -R 1000:1001 /data && chmod 750 /data && chmod 4755 /data/seed',
        // Hostile: the mount paths are links to a host directory that exists on this machine.
        // The image has its own (empty) directory of that name: that is where the link leads.
        `RUN mkdir -p ${hostTarget} && ln -s ${hostTarget} /evil && mkdir /trap && ln -s ${hostTarget} /trap/escape`,
        'VOLUME /data',
        '',
      ].join('\n'),
    );
    await gantry(['build', '-t', 'vimg', context]);
    fs.rmSync(context, { recursive: true, force: true });
    return () => fs.rmSync(hostTarget, { recursive: true, force: true });
  });

  it('creates, lists and inspects a volume with docker fields', async () => {
    expect((await gantry(['volume', 'create', '--label', 'team=a', 'v-inspect'])).trim()).toBe('v-inspect');
    // Idempotent, as docker's.
    expect((await gantry(['volume', 'create', 'v-inspect'])).trim()).toBe('v-inspect');
    const [inspected] = JSON.parse(await gantry(['volume', 'inspect', 'v-inspect'])) as Record<
      string,
      unknown
    >[];
    expect(Object.keys(inspected!).sort()).toEqual(
      ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope'].sort(),
    );
    expect(inspected).toMatchObject({
      Name: 'v-inspect',
      Driver: 'local',
      Scope: 'local',
      Labels: { team: 'a' },
      Options: {},
      Mountpoint: path.join(engine.root, 'volumes', 'v-inspect', '_data'),
    });
    expect(inspected!.CreatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(fs.statSync(inspected!.Mountpoint as string).isDirectory()).toBe(true);
    const listed = (await gantry(['volume', 'ls'])).split('\n');
    expect(listed[0]).toMatch(/^DRIVER\s+VOLUME NAME$/);
    expect(listed.some((line) => /^local\s+v-inspect$/.test(line))).toBe(true);
    expect((await gantry(['volume', 'ls', '-q', '--filter', 'label=team=a'])).trim()).toBe('v-inspect');
    expect((await gantry(['volume', 'ls', '-q', '--filter', 'name=nomatch'])).trim()).toBe('');
    expect(
      (
        await gantry(['volume', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Labels}}', '-f', 'name=v-insp'])
      ).trim(),
    ).toBe('v-inspect local team=a');
    expect((await gantry(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'v-inspect'])).trim()).toBe(
      inspected!.Mountpoint,
    );
    const bad = await engine.gantry(['volume', 'create', 'x']);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('includes invalid characters for a local volume name');
    const missing = await engine.gantry(['volume', 'inspect', 'nosuchvolume']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('no such volume');
  });

  it('makes -v NAME:/path on first use and fills it from the image once, keeping owners, modes and links', async () => {
    const out = await gantry([
      'run',
      '--rm',
      '-v',
      'filled:/data',
      'vimg',
      'sh',
      '-c',
      'stat -c "%n %a %u:%g %h" /data /data/seed /data/sub/hard; readlink /data/link; cat /data/seed; echo mine > /data/new',
    ]);
    expect(out.trim().split('\n')).toEqual([
      '/data 750 1000:1001 3',
      '/data/seed 4755 1000:1001 2',
      '/data/sub/hard 4755 1000:1001 2',
      '/etc/passwd',
      'seed',
    ]);
    // The second container sees what the first wrote; a volume with content is not filled again.
    await gantry(['run', '--rm', '-v', 'filled:/data', 'vimg', 'rm', '/data/seed']);
    const again = await gantry(['run', '--rm', '-v', 'filled:/data', 'vimg', 'ls', '/data']);
    expect(again.trim().split('\n').sort()).toEqual(['link', 'new', 'sub']);
    // nocopy: a new volume stays empty.
    const empty = await gantry(['run', '--rm', '-v', 'bare:/data:nocopy', 'vimg', 'ls', '-A', '/data']);
    expect(empty.trim()).toBe('');
  });

  it('never reads or writes the host through an image symlink at the mount path', async () => {
    // /evil -> the host directory's path: resolved inside the image, where that directory is empty.
    const out = await gantry(['run', '--rm', '-v', 'evil:/evil', 'vimg', 'ls', '-A', '/evil']);
    expect(out.trim()).toBe('');
    const data = path.join(engine.root, 'volumes', 'evil', '_data');
    expect(fs.readdirSync(data)).toEqual([]);
    // A link inside the copied directory is copied as a link, never followed.
    await gantry(['run', '--rm', '-v', 'trap:/trap', 'vimg', 'true']);
    const trap = path.join(engine.root, 'volumes', 'trap', '_data');
    expect(fs.readlinkSync(path.join(trap, 'escape'))).toBe(hostTarget);
    expect(fs.readdirSync(hostTarget)).toEqual(['host-secret']);
    expect(fs.readFileSync(path.join(hostTarget, 'host-secret'), 'utf8')).toBe('host\n');
  });

  it("gives an image's VOLUME an anonymous volume that rm -v removes and rm keeps", async () => {
    const id = (await gantry(['create', 'vimg', 'cat', '/data/seed'])).trim();
    const [mount] = JSON.parse(await gantry(['inspect', '-f', '{{json .Mounts}}', id])) as Record<
      string,
      unknown
    >[];
    expect(mount).toMatchObject({
      Type: 'volume',
      Destination: '/data',
      Driver: 'local',
      RW: true,
      Mode: '',
    });
    expect(mount!.Name).toMatch(/^[0-9a-f]{64}$/);
    expect(mount!.Source).toBe(path.join(engine.root, 'volumes', mount!.Name as string, '_data'));
    expect((await gantry(['start', '-a', id])).trim()).toBe('seed');
    const [volume] = JSON.parse(await gantry(['volume', 'inspect', mount!.Name as string])) as {
      Labels: Record<string, string>;
    }[];
    expect(volume!.Labels).toEqual({ 'com.docker.volume.anonymous': '' });
    const inUse = await engine.gantry(['volume', 'rm', mount!.Name as string]);
    expect(inUse.exitCode).toBe(1);
    expect(inUse.stderr).toContain(`volume is in use - [${id}`);
    await gantry(['rm', '-v', id]);
    expect(fs.existsSync(path.join(engine.root, 'volumes', mount!.Name as string))).toBe(false);

    const kept = (await gantry(['create', 'vimg', 'true'])).trim();
    const keptName = (
      JSON.parse(await gantry(['inspect', '-f', '{{json .Mounts}}', kept])) as { Name: string }[]
    )[0]!.Name;
    await gantry(['rm', kept]);
    expect(fs.existsSync(path.join(engine.root, 'volumes', keptName, '_data', 'seed'))).toBe(true);
    await gantry(['volume', 'rm', keptName]);
  });

  it('removes the anonymous volumes of an --rm container, and not the named ones', async () => {
    const before = new Set((await gantry(['volume', 'ls', '-q'])).split('\n').filter(Boolean));
    await gantry(['run', '--rm', '-v', 'keepme:/named', '-v', '/scratch', 'vimg', 'true']);
    const after = (await gantry(['volume', 'ls', '-q'])).split('\n').filter(Boolean);
    expect(after.filter((name) => !before.has(name))).toEqual(['keepme']);
  });

  it('shares mounts with --volumes-from, read-only with :ro', async () => {
    await gantry(['create', '--name', 'source-box', '-v', 'shared:/shared', '-v', '/anon', 'vimg', 'true']);
    const out = await gantry([
      'run',
      '--rm',
      '--volumes-from',
      'source-box:ro',
      'vimg',
      'sh',
      '-c',
      'ls -d /anon /shared; touch /shared/x 2>/dev/null || echo read-only',
    ]);
    expect(out.trim().split('\n')).toEqual(['/anon', '/shared', 'read-only']);
    const rw = await gantry(['run', '--rm', '--volumes-from', 'source-box', 'vimg', 'touch', '/shared/y']);
    expect(rw).toBe('');
    expect(fs.existsSync(path.join(engine.root, 'volumes', 'shared', '_data', 'y'))).toBe(true);
    // The anonymous volume is still the source container's: rm -v of a sharer leaves it.
    await gantry(['rm', 'source-box']);
  });

  it('prunes unused anonymous volumes by default and unused named ones with --all', async () => {
    await gantry(['volume', 'create', 'prune-named']);
    await gantry(['create', '--name', 'holder', '-v', 'prune-held:/x', 'demo', 'true']);
    const anonymous = (await gantry(['create', 'vimg', 'true'])).trim();
    const anonymousName = (
      JSON.parse(await gantry(['inspect', '-f', '{{json .Mounts}}', anonymous])) as {
        Name: string;
      }[]
    )[0]!.Name;
    await gantry(['rm', anonymous]);
    const pruned = await gantry(['volume', 'prune', '-f']);
    expect(pruned).toMatch(/^Deleted Volumes:\n/);
    expect(pruned.split('\n')).toContain(anonymousName);
    expect(pruned).toMatch(/Total reclaimed space: \d+(\.\d+)?k?B\n$/);
    const names = (await gantry(['volume', 'ls', '-q'])).split('\n');
    expect(names).toContain('prune-named');
    await gantry(['volume', 'prune', '-a', '-f']);
    const left = (await gantry(['volume', 'ls', '-q'])).split('\n').filter(Boolean);
    expect(left).not.toContain('prune-named');
    expect(left).toContain('prune-held');
    await gantry(['rm', 'holder']);
  });

  it('refuses two mounts on one destination and bad -v specs as docker does', async () => {
    const duplicate = await engine.gantry(['create', '-v', 'a1:/x', '-v', '/tmp:/x', 'demo', 'true']);
    expect(duplicate.exitCode).toBe(125);
    expect(duplicate.stderr).toContain('Duplicate mount point: /x');
    const mode = await engine.gantry(['create', '-v', 'a1:/x:bogus', 'demo', 'true']);
    expect(mode.exitCode).toBe(125);
    expect(mode.stderr).toContain('invalid mode: bogus');
    const relative = await engine.gantry(['create', '-v', 'a1:x', 'demo', 'true']);
    expect(relative.stderr).toContain('mount path must be absolute');
    // Nothing was made for a refused container.
    expect(fs.existsSync(path.join(engine.root, 'volumes', 'a1'))).toBe(false);
  });
});
