/**
 * Multi-stage builds on the real kernel, side by side with buildah: `FROM ... AS name`,
 * `COPY --from=name|index|image`, ARG before FROM, `--target`, stages the target does not need are
 * skipped, and the copied tree (paths, types, modes, owners, link counts, content) is what
 * buildah makes of the same Containerfile. Also: hard links between files of the context stay
 * hard links, and a symlink a RUN step planted in a stage never leads a COPY --from to a host file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineForSuite, testName } from '../../support/engine.js';
import { describeUnless, needsCommand, needsRoot } from '../../support/skip.js';
import { Buildah, makeTempDirectory } from './support.js';

const MULTI_STAGE = `ARG BASE=demo
FROM $BASE AS builder
ARG GREETING
RUN mkdir -p /out/sub && echo "$GREETING" > /out/result && ln /out/result /out/sub/link && ln -s result /out/alias && chmod 700 /out/sub && chown 12:34 /out/result
COPY tree/ /ctx/

FROM scratch AS unused
COPY --from=builder /out/result /never

FROM demo
COPY --from=builder /out /app/
COPY --from=0 /ctx/ /ctx/
COPY --from=demo /bin/sh /copied-sh
CMD ["cat", "/app/result"]
`;

/** What a tree holds, one line per path: type, mode, link count, owner, size, content digest. */
const LISTING = `cd / && find app ctx copied-sh | sort | while read f; do stat -c '%n %F %a %h %u:%g %s' "$f"; done; cat /app/sub/link`;

describeUnless(
  [needsRoot(), needsCommand('buildah')],
  'gantry build: multi-stage, side by side with buildah',
  () => {
    const engine = engineForSuite('build-stages');
    let temp: string;
    let context: string;
    let buildah: Buildah;

    beforeAll(async () => {
      temp = makeTempDirectory('build-stages');
      context = path.join(temp, 'context');
      fs.mkdirSync(path.join(context, 'tree', 'nested'), { recursive: true });
      fs.writeFileSync(path.join(context, 'Containerfile'), MULTI_STAGE);
      fs.writeFileSync(path.join(context, 'tree', 'one'), 'one\n');
      fs.linkSync(path.join(context, 'tree', 'one'), path.join(context, 'tree', 'nested', 'two'));
      fs.writeFileSync(path.join(context, 'tree', 'plain'), 'plain\n', { mode: 0o600 });
      buildah = new Buildah(temp);
    });

    afterAll(async () => {
      await buildah?.cleanup();
      fs.rmSync(path.join('/tmp', testName('build-stages-oci')), { recursive: true, force: true });
      fs.rmSync(temp, { recursive: true, force: true });
    });

    async function ok(args: string[]): Promise<string> {
      const result = await engine.gantry(args);
      expect(result.exitCode, `gantry ${args.join(' ')}:\n${result.stdout}\n${result.stderr}`).toBe(0);
      return result.stdout;
    }

    /** buildah's view of the same Containerfile, on the demo image exported from gantry. */
    async function buildahListing(tag: string, extra: string[] = []): Promise<string> {
      // buildah names what it pulls from an OCI layout after the layout's path: keep it lowercase.
      const layout = path.join('/tmp', testName('build-stages-oci'));
      if (!fs.existsSync(layout)) {
        await ok(['image', 'export', '--format', 'oci', 'demo', layout]);
        const id = await buildah.run('pull', '--quiet', `oci:${layout}`);
        await buildah.run('tag', id, 'localhost/demo:latest');
      }
      await buildah.run(
        'bud',
        '--quiet',
        '--pull=never',
        '--build-arg',
        'GREETING=hi',
        ...extra,
        '-t',
        tag,
        context,
      );
      const container = await buildah.run('from', '--pull=never', tag);
      try {
        return await buildah.run('run', container, 'sh', '-c', LISTING);
      } finally {
        await buildah.run('rm', container);
      }
    }

    it('builds the stages the last one needs, copies from a stage by name, by index and from an image, as buildah does', async () => {
      const output = await ok(['build', '--build-arg', 'GREETING=hi', '-t', 'multi:1', context]);
      // The unused stage is skipped; every step says its stage.
      expect(output).toContain('[1/3] STEP 1/4: FROM $BASE AS builder');
      expect(output).toContain('[3/3] STEP 2/5: COPY --from=builder /out /app/');
      expect(output).not.toContain('/never');
      expect(output).not.toContain('[2/3]');
      expect(await ok(['run', '--rm', 'multi:1'])).toBe('hi\n');

      const ours = await ok(['run', '--rm', 'multi:1', 'sh', '-c', LISTING]);
      expect(ours).toContain('app/result regular file 644 2 12:34 3');
      expect(ours).toContain('app/sub/link regular file 644 2 12:34 3');
      expect(ours).toContain('app/alias symbolic link');
      // The hard link inside the context directory is still one inode, two names.
      expect(ours).toContain('ctx/one regular file 644 2 0:0 4');
      expect(ours).toContain('ctx/nested/two regular file 644 2 0:0 4');
      expect(ours.trim()).toBe(await buildahListing('localhost/multi:1'));

      // Only the final stage's layers are in the image: demo's, then one per COPY.
      const tree = JSON.parse(await ok(['image', 'tree', '--json', 'multi:1'])) as {
        layers: Array<{ createdBy: string }>;
      };
      expect(tree.layers.map((layer) => layer.createdBy)).toEqual([
        'gantry image from-host',
        'COPY --from=builder /out /app/',
        'COPY --from=0 /ctx/ /ctx/',
        'COPY --from=demo /bin/sh /copied-sh',
      ]);
      expect(await ok(['ps', '-aq'])).toBe('');
      expect(fs.readdirSync(path.join(engine.root, 'tmp'))).toEqual([]);
    });

    it('--target builds the named stage and only what it needs', async () => {
      const output = await ok([
        'build',
        '--build-arg',
        'GREETING=hi',
        '--target',
        'builder',
        '-t',
        'multi:builder',
        context,
      ]);
      expect(output).toContain('[1/3] STEP 4/4: COPY tree/ /ctx/');
      expect(output).not.toContain('[3/3]');
      expect(await ok(['run', '--rm', 'multi:builder', 'cat', '/out/result', '/ctx/one'])).toBe('hi\none\n');
      const missing = await engine.gantry(['build', '--target', 'nope', context]);
      expect(missing.exitCode).not.toBe(0);
      expect(missing.stderr).toContain('--target nope: there is no stage of that name');
      expect(missing.stderr).toContain('the stages are: builder, unused');
    });

    it('refuses a stage used before it is defined, an unknown --from, and a stage name given twice', async () => {
      const bad = path.join(temp, 'bad');
      fs.mkdirSync(bad, { recursive: true });
      const cases: Array<{ file: string; expected: RegExp }> = [
        {
          file: 'FROM demo AS first\nCOPY --from=second /x /x\nFROM demo AS second\nCOPY --from=first /x /y\n',
          expected: /the stage "second" is not defined before it is used/,
        },
        {
          file: 'FROM demo\nCOPY --from=1 /x /x\n',
          expected: /--from=1: there is no stage 1 before this one/,
        },
        {
          file: 'FROM demo\nCOPY --from=no-such-image:1 /x /x\n',
          expected: /--from=no-such-image:1: no stage of that name and no such image in the local store/,
        },
        {
          file: 'FROM demo AS a\nFROM demo AS A\n',
          expected: /the stage name "a" is already used on line 1/,
        },
        {
          file: 'FROM demo AS a\nFROM demo\nCOPY --from=a /missing /x\n',
          expected: /COPY --from=a \/missing: no such file or directory in stage a/,
        },
      ];
      for (const { file, expected } of cases) {
        fs.writeFileSync(path.join(bad, 'Containerfile'), file);
        const result = await engine.gantry(['build', '-t', 'bad:1', bad]);
        expect(result.exitCode, file).toBe(1);
        expect(result.stderr, file).toMatch(expected);
      }
      expect(await ok(['ps', '-aq'])).toBe('');
    });

    it('follows a symlink a stage planted only inside that stage: a host path it names is never read', async () => {
      // A file and a directory that exist on the host, not in the stage.
      const hostDirectory = path.join(temp, 'host-only');
      fs.mkdirSync(hostDirectory, { recursive: true });
      fs.writeFileSync(path.join(hostDirectory, 'secret'), 'host secret\n');
      const attack = path.join(temp, 'attack');
      fs.mkdirSync(attack, { recursive: true });
      const cases = [
        `FROM demo AS evil\nRUN ln -s ${hostDirectory}/secret /leak\nFROM demo\nCOPY --from=evil /leak /leak\n`,
        `FROM demo AS evil\nRUN ln -s ${hostDirectory} /dir\nFROM demo\nCOPY --from=evil /dir/secret /leak\n`,
      ];
      for (const file of cases) {
        fs.writeFileSync(path.join(attack, 'Containerfile'), file);
        const result = await engine.gantry(['build', '-t', 'attack:1', attack]);
        expect(result.exitCode, file).toBe(1);
        expect(result.stderr, file).toMatch(
          /dangling symlink in stage evil|no such file or directory in stage evil/,
        );
        expect(result.stdout + result.stderr).not.toContain('host secret');
      }
      // Copied as part of a directory, the link stays a link and points where it pointed.
      fs.writeFileSync(
        path.join(attack, 'Containerfile'),
        `FROM demo AS evil\nRUN mkdir /d && ln -s ${hostDirectory}/secret /d/leak\nFROM demo\nCOPY --from=evil /d /d\n`,
      );
      await ok(['build', '-t', 'attack:2', attack]);
      expect(
        await ok([
          'run',
          '--rm',
          'attack:2',
          'sh',
          '-c',
          'readlink /d/leak; test -e /d/leak && echo present || echo absent',
        ]),
      ).toBe(`${hostDirectory}/secret\nabsent\n`);
    });
  },
);
