/**
 * The state root's permissions, attacked as another local user would: a root that already exists
 * with mode 0755 and the modes an older gantry left (layers/ 0711, each layer 0755, container
 * directories 0711, config.json 0644) is fixed by the next gantry command, after which an
 * unprivileged user (uid 65534, through setpriv) can neither read a layer's setuid binary nor a
 * container's config.json, which holds its environment.
 */
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { engineForSuite } from '../support/engine.js';
import { describeUnless, needsRoot } from '../support/skip.js';

/** Runs a command as uid/gid 65534 with no supplementary groups. */
async function asNobody(command: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const result = await execa(
    'setpriv',
    ['--reuid', '65534', '--regid', '65534', '--clear-groups', '--', ...command],
    { reject: false, stdin: 'ignore' },
  );
  return { exitCode: result.exitCode ?? 128, stdout: String(result.stdout), stderr: String(result.stderr) };
}

function mode(file: string): number {
  return fs.lstatSync(file).mode & 0o7777;
}

describeUnless(needsRoot(), 'the state root is private to root', () => {
  const engine = engineForSuite('state-root');

  async function ok(args: string[]): Promise<string> {
    const result = await engine.gantry(args);
    expect(result.exitCode, `gantry ${args.join(' ')}: ${result.stderr}`).toBe(0);
    return result.stdout;
  }

  it('fixes a 0755 root with old-style modes on the next start: no setuid binary or config.json for others', async () => {
    const root = engine.root;
    // An image layer holding a setuid-root binary, and a container whose config holds a secret.
    await ok([
      'run',
      '--name',
      'suid-maker',
      'demo',
      'sh',
      '-c',
      'cp /bin/busybox /suid && chmod 4755 /suid',
    ]);
    await ok(['commit', 'suid-maker', 'suid:1']);
    const id = (
      await ok(['create', '--name', 'secretive', '-e', 'API_TOKEN=hunter2-state-root', 'suid:1', 'true'])
    ).trim();
    await ok(['start', '-a', 'secretive']);
    const layer = fs
      .readdirSync(path.join(root, 'layers'))
      .map((name) => path.join(root, 'layers', name))
      .find((directory) => fs.existsSync(path.join(directory, 'diff', 'suid')))!;
    const suid = path.join(layer, 'diff', 'suid');
    expect(mode(suid)).toBe(0o4755);
    const container = path.join(root, 'containers', id);
    const config = path.join(container, 'config.json');
    expect(fs.readFileSync(config, 'utf8')).toContain('hunter2-state-root');

    // What an older gantry left, in a root someone made world-readable.
    fs.chmodSync(root, 0o755);
    fs.chmodSync(path.join(root, 'layers'), 0o711);
    for (const name of fs.readdirSync(path.join(root, 'layers')))
      fs.chmodSync(path.join(root, 'layers', name), 0o755);
    fs.chmodSync(path.join(root, 'containers'), 0o711);
    fs.chmodSync(container, 0o711);
    fs.chmodSync(config, 0o644);
    fs.chmodSync(path.join(container, 'state.json'), 0o644);
    // The attack works against that layout: the reason for this test.
    expect((await asNobody(['cat', config])).stdout).toContain('hunter2-state-root');
    expect((await asNobody(['test', '-r', suid])).exitCode).toBe(0);

    // Any command starts the engine, which fixes the root.
    await ok(['ps', '-a']);
    const readConfig = await asNobody(['cat', config]);
    expect(readConfig.exitCode).not.toBe(0);
    expect(readConfig.stderr).toContain('Permission denied');
    expect(readConfig.stdout).not.toContain('hunter2-state-root');
    const readSuid = await asNobody(['cat', suid]);
    expect(readSuid.exitCode).not.toBe(0);
    expect(readSuid.stderr).toContain('Permission denied');
    const runSuid = await asNobody([suid, 'id', '-u']);
    expect(runSuid.exitCode).not.toBe(0);
    expect(runSuid.stdout.trim()).not.toBe('0');
    const listLayers = await asNobody(['ls', path.join(root, 'layers')]);
    expect(listLayers.exitCode).not.toBe(0);
    for (const directory of ['layers', 'containers', 'images', 'blobs', 'names']) {
      expect(mode(path.join(root, directory)) & 0o077, directory).toBe(0);
    }
    for (const name of fs.readdirSync(path.join(root, 'layers')))
      expect(mode(path.join(root, 'layers', name)) & 0o077, `layer ${name}`).toBe(0);
    for (const name of fs.readdirSync(path.join(root, 'containers')))
      expect(mode(path.join(root, 'containers', name)) & 0o077, `container ${name}`).toBe(0);
    expect(mode(config) & 0o077).toBe(0);
    expect(mode(path.join(container, 'state.json')) & 0o077).toBe(0);

    // The image's own modes are untouched: inside a container the binary is still setuid, / is 0755.
    expect(mode(suid)).toBe(0o4755);
    expect((await ok(['run', '--rm', 'suid:1', 'stat', '-c', '%a', '/suid', '/'])).trim()).toBe('4755\n755');
    await engine.gantry(['rm', '-f', 'suid-maker', 'secretive']);
    await engine.gantry(['image', 'rm', 'suid:1']);
  });

  it('makes new layers, containers and their configs private from the start', async () => {
    const id = (await ok(['create', '--name', 'fresh', '-e', 'TOKEN=x', 'demo', 'true'])).trim();
    await ok(['start', '-a', 'fresh']);
    const container = path.join(engine.root, 'containers', id);
    expect(mode(container)).toBe(0o700);
    expect(mode(path.join(container, 'config.json'))).toBe(0o600);
    expect(mode(path.join(container, 'state.json'))).toBe(0o600);
    // upper/ is the container's `/`: its mode is the image's.
    expect(mode(path.join(container, 'upper'))).toBe(0o755);
    await ok(['commit', 'fresh', 'fresh:1']);
    for (const name of fs.readdirSync(path.join(engine.root, 'layers')))
      expect(mode(path.join(engine.root, 'layers', name)), name).toBe(0o700);
    await engine.gantry(['rm', '-f', 'fresh']);
    await engine.gantry(['image', 'rm', 'fresh:1']);
  });
});
