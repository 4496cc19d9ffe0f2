/**
 * RUN and COPY beyond one line, on the real kernel: here-documents (`RUN <<EOF`, a `#!` script,
 * a heredoc the shell reads, `COPY <<EOF` with and without substitution) and
 * `RUN --mount=type=cache|bind|tmpfs` (a cache kept under the state root across builds, a
 * read-only bind of the context, a writable bind whose writes never reach the context, a real
 * tmpfs), none of them left in the image.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineForSuite } from '../../support/engine.js';
import { describeUnless, needsRoot } from '../../support/skip.js';
import { makeTempDirectory } from './support.js';

const CONTAINERFILE = `FROM demo
ARG NAME=world
RUN <<EOF
echo "first line"
echo second > /second
EOF
RUN <<'SCRIPT'
#!/bin/sh
echo "script at $0" > /script-ran
SCRIPT
RUN cat > /via-shell <<EOF
shell heredoc $((1+2))
EOF
COPY <<EOF <<"RAW" /docs/
hello $NAME
EOF
raw $NAME "quoted"
RAW
RUN --mount=type=cache,id=counter,target=/cache echo run >> /cache/count && wc -l < /cache/count > /cache-count
RUN --mount=type=bind,source=src,target=/mnt/src cat /mnt/src/in.txt > /from-bind
RUN --mount=type=bind,source=src,target=/mnt/src,rw echo changed > /mnt/src/in.txt && cat /mnt/src/in.txt > /rw-bind
RUN --mount=type=tmpfs,target=/scratch,size=1m echo tmp > /scratch/x && df -k /scratch | tail -1 > /tmpfs-df
`;

describeUnless(needsRoot(), 'gantry build: here-documents and RUN --mount', () => {
  const engine = engineForSuite('build-run');
  let temp: string;
  let context: string;

  beforeAll(() => {
    temp = makeTempDirectory('build-run');
    context = path.join(temp, 'context');
    fs.mkdirSync(path.join(context, 'src'), { recursive: true });
    fs.writeFileSync(path.join(context, 'Containerfile'), CONTAINERFILE);
    fs.writeFileSync(path.join(context, 'src', 'in.txt'), 'from the context\n');
  });

  afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

  async function ok(args: string[]): Promise<string> {
    const result = await engine.gantry(args);
    expect(result.exitCode, `gantry ${args.join(' ')}:\n${result.stdout}\n${result.stderr}`).toBe(0);
    return result.stdout;
  }

  it('runs here-documents as BuildKit does and copies them as files', async () => {
    const output = await ok(['build', '-t', 'heredoc:1', context]);
    expect(output).toContain('first line\n');
    const read = (file: string): Promise<string> => ok(['run', '--rm', 'heredoc:1', 'cat', file]);
    expect(await read('/second')).toBe('second\n');
    // A body starting with #! runs as a script of its own, from /dev/pipes.
    expect(await read('/script-ran')).toBe('script at /dev/pipes/SCRIPT\n');
    expect(await read('/via-shell')).toBe('shell heredoc 3\n');
    // COPY: an unquoted marker substitutes the ARGs; a quoted one keeps the text as written.
    expect(await read('/docs/EOF')).toBe('hello world\n');
    expect(await read('/docs/RAW')).toBe('raw $NAME "quoted"\n');
    expect(await ok(['run', '--rm', 'heredoc:1', 'stat', '-c', '%a %u:%g', '/docs/EOF'])).toBe('644 0:0\n');
  });

  it('mounts a cache kept across builds, the context read-only or as a throw-away copy, and a tmpfs; none in the image', async () => {
    expect(await ok(['run', '--rm', 'heredoc:1', 'cat', '/from-bind', '/rw-bind'])).toBe(
      'from the context\nchanged\n',
    );
    // The writable bind wrote to a copy: the context is as it was.
    expect(fs.readFileSync(path.join(context, 'src', 'in.txt'), 'utf8')).toBe('from the context\n');
    // 1 MiB tmpfs: df counts 1024 KiB blocks.
    expect((await ok(['run', '--rm', 'heredoc:1', 'cat', '/tmpfs-df'])).split(/\s+/)[1]).toBe('1024');
    const listed = await engine.gantry([
      'run',
      '--rm',
      'heredoc:1',
      'ls',
      '-d',
      '/cache/count',
      '/mnt/src/in.txt',
      '/scratch/x',
      '/dev/pipes/SCRIPT',
    ]);
    expect(listed.exitCode).not.toBe(0);
    expect(listed.stdout).toBe('');
    expect(await ok(['run', '--rm', 'heredoc:1', 'cat', '/cache-count'])).toBe('1\n');

    // The cache lives under the state root and a second build (no layer cache) sees it again.
    const caches = fs.readdirSync(path.join(engine.root, 'build-mounts', 'cache'));
    expect(caches).toHaveLength(1);
    await ok(['build', '--no-cache', '-t', 'heredoc:2', context]);
    expect(await ok(['run', '--rm', 'heredoc:2', 'cat', '/cache-count'])).toBe('2\n');
    expect(
      fs.readFileSync(path.join(engine.root, 'build-mounts', 'cache', caches[0]!, 'count'), 'utf8'),
    ).toBe('run\nrun\n');
  });

  it('refuses mounts that would leave the context or that it does not support, saying what is accepted', async () => {
    fs.writeFileSync(path.join(temp, 'outside.txt'), 'outside secret\n');
    fs.symlinkSync(path.join(temp, 'outside.txt'), path.join(context, 'escape'));
    const cases: Array<[string, RegExp]> = [
      ['RUN --mount=type=bind,source=escape,target=/x cat /x', /escape leads outside the build context/],
      ['RUN --mount=type=bind,source=../outside.txt,target=/x cat /x', /is outside the build context/],
      ['RUN --mount=type=secret,id=x,target=/x true', /type=secret is not supported/],
      ['RUN --mount=type=cache true', /a target is needed/],
      [
        'RUN --mount=type=weird,target=/x true',
        /unknown type "weird"[\s\S]*accepted types: cache, bind, tmpfs/,
      ],
      ['RUN <<EOF\necho never ends', /the here-document EOF is not terminated/],
    ];
    for (const [line, expected] of cases) {
      fs.writeFileSync(path.join(context, 'Containerfile.bad'), `FROM demo\n${line}\n`);
      const result = await engine.gantry(['build', '-f', path.join(context, 'Containerfile.bad'), context]);
      expect(result.exitCode, line).toBe(1);
      expect(result.stderr, line).toMatch(expected);
      expect(result.stdout + result.stderr).not.toContain('outside secret');
    }
    expect(await ok(['ps', '-aq'])).toBe('');
  });
});
