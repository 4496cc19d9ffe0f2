/**
 * `gantry build -` on the real kernel: the context comes on stdin as a tar (plain or compressed,
 * .dockerignore and `-f` read inside it), or stdin is the Containerfile itself with an empty
 * context, as docker takes them. A hostile tar (an entry climbing out with "..") is refused and
 * leaves nothing in the state root; `-` for both the context and the Containerfile is refused.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineForSuite } from '../../support/engine.js';
import { describeUnless, needsRoot } from '../../support/skip.js';
import { makeTempDirectory, storeContent, tarBuffer } from './support.js';

describeUnless(needsRoot(), 'gantry build - (context on stdin)', () => {
  const engine = engineForSuite('build-stdin');
  let temp: string;
  let context: string;

  beforeAll(() => {
    temp = makeTempDirectory('build-stdin');
    context = path.join(temp, 'context');
    fs.mkdirSync(path.join(context, 'app'), { recursive: true });
    fs.mkdirSync(path.join(context, 'docker'));
    fs.writeFileSync(path.join(context, 'app', 'main.txt'), 'main from the tar\n');
    fs.writeFileSync(path.join(context, 'app', 'secret.log'), 'must stay out\n');
    fs.writeFileSync(path.join(context, '.dockerignore'), '**/*.log\n');
    fs.writeFileSync(
      path.join(context, 'Containerfile'),
      'FROM demo\nCOPY app/ /app/\nCMD ["cat", "/app/main.txt"]\n',
    );
    fs.writeFileSync(
      path.join(context, 'docker', 'Other.containerfile'),
      'FROM demo\nCOPY app/main.txt /other.txt\n',
    );
  });

  afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

  async function ok(args: string[], input?: Buffer | string): Promise<string> {
    const result = await engine.gantry(args, input === undefined ? {} : { input });
    expect(result.exitCode, `gantry ${args.join(' ')}:\n${result.stdout}\n${result.stderr}`).toBe(0);
    return result.stdout;
  }

  it('takes a tar context on stdin, plain or gzip, with its .dockerignore', async () => {
    const plain = execFileSync('tar', ['-C', context, '-c', '.']);
    await ok(['build', '-t', 'from-stdin:1', '-'], plain);
    expect(await ok(['run', '--rm', 'from-stdin:1'])).toBe('main from the tar\n');
    expect(await ok(['run', '--rm', 'from-stdin:1', 'ls', '/app'])).toBe('main.txt\n');

    const gzip = execFileSync('tar', ['-C', context, '-cz', '.']);
    const again = await ok(['build', '-t', 'from-stdin:2', '-'], gzip);
    // The same context gives the same cached layer, whichever way it came.
    expect(again).toContain('--> CACHED');
    expect(fs.readdirSync(path.join(engine.root, 'tmp'))).toEqual([]);
  });

  it('reads -f inside the tar on stdin', async () => {
    const tar = execFileSync('tar', ['-C', context, '-c', '.']);
    await ok(['build', '-f', 'docker/Other.containerfile', '-t', 'from-stdin:other', '-'], tar);
    expect(await ok(['run', '--rm', 'from-stdin:other', 'cat', '/other.txt'])).toBe('main from the tar\n');
  });

  it('takes a Containerfile on stdin as the whole input, with an empty context', async () => {
    await ok(['build', '-t', 'from-stdin:text', '-'], 'FROM demo\nRUN echo "built from stdin" > /made\n');
    expect(await ok(['run', '--rm', 'from-stdin:text', 'cat', '/made'])).toBe('built from stdin\n');
    const copying = await engine.gantry(['build', '-'], { input: 'FROM demo\nCOPY x /x\n' });
    expect(copying.exitCode).toBe(1);
    expect(copying.stderr).toMatch(/COPY x: no such file or directory in the build context/);
  });

  it('refuses a hostile tar, an empty stdin and stdin for both, leaving nothing', async () => {
    const before = storeContent(engine.root);
    const hostile = await tarBuffer([
      { entry: { path: 'Containerfile', type: 'file', mode: 0o644 }, body: Buffer.from('FROM demo\n') },
      { entry: { path: '../../escaped', type: 'file', mode: 0o644 }, body: Buffer.from('out\n') },
    ]);
    const climbing = await engine.gantry(['build', '-'], { input: hostile });
    expect(climbing.exitCode).toBe(1);
    expect(climbing.stderr).toMatch(/the build context on stdin: .*\.\./);
    expect(fs.existsSync(path.join(engine.root, '..', 'escaped'))).toBe(false);

    const empty = await engine.gantry(['build', '-'], { input: '' });
    expect(empty.exitCode).toBe(1);
    expect(empty.stderr).toContain('the build context on stdin is empty');

    const both = await engine.gantry(['build', '-f', '-', '-'], { input: 'FROM demo\n' });
    expect(both.exitCode).toBe(1);
    expect(both.stderr).toContain('the build context and the Containerfile cannot both come from stdin');
    expect(storeContent(engine.root)).toEqual(before);
    expect(fs.readdirSync(path.join(engine.root, 'tmp'))).toEqual([]);
  });
});
