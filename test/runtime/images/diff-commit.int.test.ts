/**
 * `gantry diff` and `gantry commit` on real containers: the diff is read from the live upperdir
 * (whiteouts, opaque directories, runtime mount stubs), and a committed image runs with the
 * change in place and a deleted file still deleted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { engineForSuite, waitFor } from '../../support/engine.js';
import { storeContent } from './support.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

describeUnless(needsRoot(), 'gantry diff and commit', () => {
  const engine = engineForSuite('diff-commit');

  async function ok(args: string[]): Promise<string> {
    const result = await engine.gantry(args);
    expect(result.exitCode, `gantry ${args.join(' ')}: ${result.stderr}`).toBe(0);
    return result.stdout;
  }

  it('lists A, C and D like docker diff, parents of changes as C, without the runtime mount stubs', async () => {
    await ok([
      'run',
      '--name',
      'changes',
      'demo',
      'sh',
      '-c',
      'mkdir -p /new/deep && echo x > /new/deep/file && rm /etc/group && echo more >> /etc/passwd && mkdir -p /tmp/t && touch /tmp/t/f && rm -rf /tmp/t',
    ]);
    const diff = await ok(['diff', 'changes']);
    expect(diff.trim().split('\n')).toEqual([
      'C /etc',
      'D /etc/group',
      'C /etc/passwd',
      'A /new',
      'A /new/deep',
      'A /new/deep/file',
    ]);
    const json = JSON.parse(await ok(['diff', '--json', 'changes'])) as Array<{ Path: string; Kind: string }>;
    expect(json[1]).toEqual({ Path: '/etc/group', Kind: 'D' });
  });

  it('reports a directory replaced by an opaque one as C, with what it no longer has as D', async () => {
    await ok([
      'run',
      '--name',
      'base',
      'demo',
      'sh',
      '-c',
      'mkdir -p /opt/sub && echo a > /opt/a && echo b > /opt/b && echo s > /opt/sub/s',
    ]);
    await ok(['commit', 'base', 'with-opt:1']);
    await ok([
      'run',
      '--name',
      'opaque',
      'with-opt:1',
      'sh',
      '-c',
      'rm -rf /opt && mkdir -p /opt/sub && echo new > /opt/b',
    ]);
    const opaqueDirectory = fs
      .readdirSync(path.join(engine.root, 'containers'))
      .map((id) => path.join(engine.root, 'containers', id, 'upper', 'opt'))
      .find((candidate) => fs.existsSync(candidate));
    expect(opaqueDirectory).toBeDefined();
    expect((await ok(['diff', 'opaque'])).trim().split('\n')).toEqual([
      'C /opt',
      'D /opt/a',
      'C /opt/b',
      'C /opt/sub',
      'D /opt/sub/s',
    ]);
    // Committed, the replacement holds: the new image has only what the container left.
    await ok(['commit', 'opaque', 'replaced:1']);
    expect(await ok(['run', '--rm', 'replaced:1', 'find', '/opt'])).toBe('/opt\n/opt/b\n/opt/sub\n');
  });

  it('reads a running container live, and commits it: the new image sees the change, a deleted file stays deleted', async () => {
    await ok([
      'run',
      '-d',
      '--name',
      'live',
      'demo',
      'sh',
      '-c',
      'echo hello > /greeting; rm /etc/group; mkdir /data; exec sleep 600',
    ]);
    await waitFor(
      async () => ((await engine.gantry(['diff', 'live'])).stdout.includes('A /greeting') ? true : undefined),
      60_000,
      'the change',
    );
    expect((await ok(['diff', 'live'])).trim().split('\n')).toEqual([
      'A /data',
      'C /etc',
      'D /etc/group',
      'A /greeting',
    ]);
    const id = (
      await ok([
        'commit',
        '-m',
        'add greeting',
        '-c',
        'ENV STAGE=committed',
        '-c',
        'CMD ["cat", "/greeting"]',
        'live',
        'snapshot:1',
      ])
    ).trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The container was frozen for the commit and runs on afterwards.
    expect((await ok(['inspect', '--format', '{{.State.Status}}', 'live'])).trim()).toBe('running');
    expect(await ok(['run', '--rm', 'snapshot:1'])).toBe('hello\n');
    expect(
      await ok([
        'run',
        '--rm',
        'snapshot:1',
        'sh',
        '-c',
        'test -e /etc/group && echo present || echo deleted; test -d /data && echo dir; echo $STAGE',
      ]),
    ).toBe('deleted\ndir\ncommitted\n');
    const history = JSON.parse(await ok(['history', '--json', 'snapshot:1'])) as Array<
      Record<string, unknown>
    >;
    expect(history[0]).toMatchObject({
      Comment: 'add greeting',
      CreatedBy: 'sh -c echo hello > /greeting; rm /etc/group; mkdir /data; exec sleep 600',
      EmptyLayer: false,
    });
    // A container of the new image has no changes of its own.
    await ok(['create', '--name', 'fresh', 'snapshot:1']);
    expect(await ok(['diff', 'fresh'])).toBe('');
    await ok(['rm', '-f', 'live', 'fresh']);
  });

  it('commits a stopped container without a name (dangling) and keeps hard links, symlinks and modes', async () => {
    await ok([
      'run',
      '--name',
      'stopped',
      'demo',
      'sh',
      '-c',
      'echo a > /f && ln /f /hard && ln -s /f /soft && chmod 4711 /f && mkfifo /pipe',
    ]);
    const id = (await ok(['commit', '--pause=false', 'stopped'])).trim();
    const listed = JSON.parse(await ok(['image', 'ls', '--json'])) as Array<{
      Id: string;
      Repository: string;
      UniqueSize: number;
    }>;
    expect(listed.find((row) => row.Id === id)).toMatchObject({ Repository: '<none>', UniqueSize: 2 });
    const check = await ok([
      'run',
      '--rm',
      id,
      'sh',
      '-c',
      'stat -c "%a %h %F" /f /pipe; readlink /soft; cat /hard',
    ]);
    expect(check).toMatch(/^4711 2 regular file\n\d+ 1 fifo\n\/f\na\n$/);
  });

  it('thaws a container a killed commit left paused, and clears what that commit left', async () => {
    const run = await engine.gantry([
      'run',
      '-d',
      '--name',
      'big-layer',
      'demo',
      'sh',
      '-c',
      'head -c 60000000 /dev/urandom > /big; sleep 600',
    ]);
    const id = run.stdout.trim();
    await waitFor(
      () => {
        const file = path.join(engine.root, 'containers', id, 'upper', 'big');
        return (fs.existsSync(file) && fs.statSync(file).size >= 60_000_000) || undefined;
      },
      60_000,
      'the big file',
    );
    const commit = engine.spawn(['commit', 'big-layer', 'never:1']);
    await waitFor(
      async () =>
        (await engine.gantry(['inspect', '-f', '{{.State.Status}}', id])).stdout.trim() === 'paused' ||
        undefined,
      60_000,
      'the commit to pause the container',
    );
    process.kill(commit.pid!, 'SIGKILL'); // that commit process only
    await commit;
    // The next look at it thaws it: the pause belonged to a process that is gone.
    const ps = await engine.gantry(['ps', '--format', '{{.Names}} {{.State}}']);
    expect(ps.stdout).toContain('big-layer running');
    const exec = await engine.gantry(['exec', id, 'true']);
    expect(exec.exitCode).toBe(0);
    // The next commit sweeps the dead one's work directory.
    expect((await engine.gantry(['commit', id, 'swept:1'])).exitCode).toBe(0);
    expect(
      fs.readdirSync(path.join(engine.root, 'tmp')).filter((name) => name.startsWith('image-commit')),
    ).toEqual([]);
    await engine.gantry(['rm', '-f', id]);
    await engine.gantry(['image', 'rm', 'swept:1']);
  });

  it('runs concurrent commits of one running container one pause at a time, all of them', async () => {
    const id = (
      await engine.gantry([
        'run',
        '-d',
        '--name',
        'many-commits',
        'demo',
        'sh',
        '-c',
        'echo hi > /x; sleep 600',
      ])
    ).stdout.trim();
    await waitFor(
      () => fs.existsSync(path.join(engine.root, 'containers', id, 'upper', 'x')) || undefined,
      60_000,
      'the file',
    );
    const results = await Promise.all([1, 2, 3].map((n) => engine.gantry(['commit', id, `concurrent:${n}`])));
    for (const result of results) expect(result.exitCode, result.stderr).toBe(0);
    expect((await engine.gantry(['inspect', '-f', '{{.State.Status}}', id])).stdout.trim()).toBe('running');
    await engine.gantry(['rm', '-f', id]);
    for (const n of [1, 2, 3]) await engine.gantry(['image', 'rm', `concurrent:${n}`]);
  });

  it('refuses bad input clearly and writes nothing', async () => {
    const before = storeContent(engine.root).filter((line) => !line.includes(' containers'));
    const missing = await engine.gantry(['commit', 'no-such-container', 'x:1']);
    expect(missing.exitCode).not.toBe(0);
    expect(missing.stderr).toContain('no such container: no-such-container');
    const badChange = await engine.gantry(['commit', '-c', 'RUN rm -rf /', 'changes', 'x:1']);
    expect(badChange.exitCode).not.toBe(0);
    expect(badChange.stderr).toContain('RUN cannot be changed by commit');
    // An unknown instruction is told what commit takes, not every Containerfile instruction.
    const unknown = await engine.gantry(['commit', '-c', 'BOGUS x', 'changes', 'x:1']);
    expect(unknown.stderr).toContain('unknown instruction "BOGUS"');
    expect(unknown.stderr).toContain('hint: accepted: CMD, ENTRYPOINT');
    expect(unknown.stderr).not.toContain('FROM');
    expect(badChange.stderr).toContain('hint: accepted: CMD, ENTRYPOINT, ENV');
    const badName = await engine.gantry(['commit', 'changes', 'Bad Name']);
    expect(badName.exitCode).not.toBe(0);
    const diffMissing = await engine.gantry(['diff', 'nope']);
    expect(diffMissing.exitCode).toBe(1);
    expect(diffMissing.stderr).toContain('no such container: nope');
    const after = storeContent(engine.root).filter((line) => !line.includes(' containers'));
    expect(after).toEqual(before);
    expect(fs.readdirSync(path.join(engine.root, 'tmp'))).toEqual([]);
  });
});
