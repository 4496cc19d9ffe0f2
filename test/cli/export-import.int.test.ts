/**
 * docker's `export` (a container's filesystem as a tar) and `import` (a tarball as a one-layer
 * image, with --change): a running and a stopped container, mount points left empty, links the
 * container planted archived as links (never followed on the host), and the round trip.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { engineForSuite, waitFor } from '../support/engine.js';
import { describeUnless, needsRoot } from '../support/skip.js';

/** `tar -tvf` lines by path (the path is the 6th field on; GNU tar's verbose listing). */
function listing(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of text.split('\n').filter(Boolean)) {
    const fields = line.split(/\s+/);
    const name = fields
      .slice(5)
      .join(' ')
      .replace(/ -> .*$/, '');
    entries.set(name, line);
  }
  return entries;
}

describeUnless(needsRoot(), 'gantry export / import', () => {
  const engine = engineForSuite('export-import');

  it('exports a running container: its changes, links as links, volumes and kernel filesystems left out', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-export-'));
    try {
      const started = await engine.gantry([
        'run',
        '-d',
        '--name',
        'live',
        '-v',
        'exdata:/data',
        'demo',
        'sh',
        '-c',
        'echo made > /made; echo secret > /data/in-volume; ln -s / /hostroot; ln -s /etc/passwd /pw; touch /ready; sleep 300',
      ]);
      expect(started.exitCode, started.stderr).toBe(0);
      await waitFor(
        async () =>
          (await engine.gantry(['exec', 'live', 'test', '-e', '/ready'])).exitCode === 0 || undefined,
      );
      const file = path.join(dir, 'live.tar');
      const exported = await engine.gantry(['export', 'live'], { stdout: { file } });
      expect(exported.exitCode, exported.stderr).toBe(0);
      const entries = listing((await engine.inNetns('tar', ['-tvf', file])).stdout);
      expect(entries.get('made')).toMatch(/^-/);
      expect((await engine.inNetns('tar', ['-xOf', file, 'made'])).stdout).toBe('made\n');
      // Planted links are links in the archive: nothing of the host's root came through them.
      expect(entries.get('hostroot')).toMatch(/^l.* hostroot -> \/$/);
      expect(entries.get('pw')).toMatch(/^l.* pw -> \/etc\/passwd$/);
      expect([...entries.keys()].some((name) => name.startsWith('hostroot/'))).toBe(false);
      // Mount points are there, empty: no volume content, no /proc or /sys of the kernel.
      expect(entries.get('data/')).toMatch(/^d/);
      expect(entries.has('data/in-volume')).toBe(false);
      expect(entries.get('proc/')).toMatch(/^d/);
      expect([...entries.keys()].filter((name) => /^(proc|sys|dev)\/./.test(name))).toEqual([]);
      expect(entries.get('bin/busybox')).toMatch(/^-/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exports a stopped container with -o, imports it with --change and runs the image', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-export-'));
    try {
      const ran = await engine.gantry(['run', '--name', 'done', 'demo', 'sh', '-c', 'echo kept > /kept']);
      expect(ran.exitCode, ran.stderr).toBe(0);
      const file = path.join(dir, 'done.tar');
      const exported = await engine.gantry(['container', 'export', '-o', file, 'done']);
      expect(exported.exitCode, exported.stderr).toBe(0);
      expect(exported.stdout).toBe('');
      expect(fs.readdirSync(dir)).toEqual(['done.tar']);

      const imported = await engine.gantry([
        'import',
        '--change',
        'CMD ["cat", "/kept"]',
        '-c',
        'ENV GREETING=hi',
        '-c',
        'WORKDIR /srv',
        '-m',
        'from done',
        file,
        'restored:1',
      ]);
      expect(imported.exitCode, imported.stderr).toBe(0);
      const id = imported.stdout.trim();
      expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
      const inspect = JSON.parse((await engine.gantry(['image', 'inspect', 'restored:1'])).stdout)[0];
      expect(inspect.Id).toBe(id);
      expect(inspect.Config.Cmd).toEqual(['cat', '/kept']);
      expect(inspect.Config.Env).toEqual(['GREETING=hi']);
      expect(inspect.Config.WorkingDir).toBe('/srv');
      expect(inspect.RootFS.Layers).toHaveLength(1);
      const history = JSON.parse((await engine.gantry(['history', '--json', 'restored:1'])).stdout);
      expect(history.map((entry: { Comment: string }) => entry.Comment)).toEqual(['from done']);
      const run = await engine.gantry(['run', '--rm', 'restored:1']);
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.stdout).toBe('kept\n');

      // From stdin, as `image import -`, with docker's default comment.
      const streamed = await engine.gantry(['image', 'import', '-', 'restored:2'], { inputFile: file });
      expect(streamed.exitCode, streamed.stderr).toBe(0);
      const comment = JSON.parse((await engine.gantry(['history', '--json', 'restored:2'])).stdout);
      expect(comment.map((entry: { Comment: string }) => entry.Comment)).toEqual(['Imported from -']);
      expect((await engine.gantry(['run', '--rm', 'restored:2', 'cat', '/kept'])).stdout).toBe('kept\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses what it cannot import, and stores nothing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-import-'));
    try {
      const before = (await engine.gantry(['images', '-q', '--no-trunc'])).stdout;
      const missing = await engine.gantry(['import', path.join(dir, 'nope.tar')]);
      expect(missing.exitCode).not.toBe(0);
      expect(missing.stderr).toMatch(/nope\.tar: no such file/);

      const archive = path.join(dir, 'demo.tar');
      expect((await engine.gantry(['save', '-o', archive, 'demo'])).exitCode).toBe(0);
      const changed = await engine.gantry(['import', '-c', 'CMD ["true"]', archive, 'shaped']);
      expect(changed.exitCode).not.toBe(0);
      expect(changed.stderr).toMatch(
        /is an image archive: --change and --message apply to a filesystem tarball only/,
      );

      const badChange = await engine.gantry(['import', '-c', 'RUN true', archive, 'shaped']);
      expect(badChange.exitCode).not.toBe(0);
      expect(badChange.stderr).toMatch(/accepted: CMD, ENTRYPOINT, ENV/);

      const climbing = path.join(dir, 'climb.tar');
      fs.mkdirSync(path.join(dir, 'tree'));
      fs.writeFileSync(path.join(dir, 'tree', 'x'), 'x');
      // -P keeps the "../" GNU tar would strip.
      const made = await engine.inNetns('tar', ['-cPf', climbing, '-C', path.join(dir, 'tree'), '../tree/x']);
      expect(made.exitCode, made.stderr).toBe(0);
      const climbed = await engine.gantry(['import', climbing, 'climbs']);
      expect(climbed.exitCode).not.toBe(0);
      expect(climbed.stderr).toMatch(/points outside the archive|climbs out with "\.\."/);

      expect((await engine.gantry(['images', '-q', '--no-trunc'])).stdout).toBe(before);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
