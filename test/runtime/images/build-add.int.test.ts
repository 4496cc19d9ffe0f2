/**
 * ADD beyond plain and gzip tars, on the real kernel: .tar.xz, .tar.bz2 and .tar.zst archives
 * are extracted (the tree is what buildah makes of the same Containerfile), a compressed file
 * that holds no tar is copied as it is, and http URLs (a server of this test on 127.0.0.1) are
 * downloaded with docker's rules and checked against --checksum; a wrong checksum fails the build
 * and leaves nothing.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEngineWithImage, testName, type TestEngine } from '../../support/engine.js';
import { describeUnless, needsCommand, needsRoot } from '../../support/skip.js';
import { Buildah, makeTempDirectory, storeContent } from './support.js';

/**
 * The extracted trees. Their top directories are left out: docker (moby's Unpack) skips an
 * archive's "./" entry, so ADD's new destination keeps 0:0, where buildah applies the entry's owner.
 */
const LISTING = `cd / && find x-xz x-bz2 x-zst -mindepth 1 | sort | while read f; do stat -c '%n %F %a %u:%g %s' "$f"; done; cat x-xz/inner/a.txt x-bz2/inner/a.txt x-zst/inner/a.txt; wc -c < /not-a-tar.xz`;

describeUnless(
  [
    needsRoot(),
    needsCommand('xz', 'xz-utils'),
    needsCommand('bzip2'),
    needsCommand('zstd'),
    needsCommand('buildah'),
  ],
  'gantry build: ADD of xz, bzip2 and zstd archives and of URLs',
  () => {
    let engine: TestEngine;
    let temp: string;
    let context: string;
    let buildah: Buildah;
    let server: http.Server;
    let base = '';
    const served = new Map<string, Buffer>();
    const requests: string[] = [];

    beforeAll(async () => {
      temp = makeTempDirectory('build-add');
      // The download is made by gantry itself (no container): it runs where this test's server is.
      engine = await createEngineWithImage('build-add', { hostNetwork: true });
      buildah = new Buildah(temp);
      context = path.join(temp, 'context');
      const tree = path.join(temp, 'tree');
      fs.mkdirSync(path.join(tree, 'inner'), { recursive: true });
      fs.writeFileSync(path.join(tree, 'inner', 'a.txt'), 'from the archive\n');
      fs.writeFileSync(path.join(tree, 'inner', 'run.sh'), '#!/bin/sh\n', { mode: 0o750 });
      fs.symlinkSync('a.txt', path.join(tree, 'inner', 'alias'));
      fs.mkdirSync(context);
      const tar = (flag: string, name: string): void => {
        execFileSync('tar', [
          flag,
          '-cf',
          path.join(context, name),
          '--owner=7',
          '--group=8',
          '-C',
          tree,
          '.',
        ]);
      };
      tar('--xz', 'bundle.tar.xz');
      tar('--bzip2', 'bundle.tar.bz2');
      tar('--zstd', 'bundle.tar.zst');
      // xz-compressed, but no tar inside: ADD copies it as it is.
      execFileSync('sh', ['-c', `printf 'just text\\n' | xz > ${path.join(context, 'not-a-tar.xz')}`]);
      fs.writeFileSync(
        path.join(context, 'Containerfile'),
        [
          'FROM demo',
          'ADD bundle.tar.xz /x-xz/',
          'ADD bundle.tar.bz2 /x-bz2',
          'ADD bundle.tar.zst /x-zst/',
          'ADD not-a-tar.xz /',
          '',
        ].join('\n'),
      );

      served.set('/files/hello.txt', Buffer.from('downloaded over http\n'));
      served.set('/files/archive.tar.gz', fs.readFileSync(path.join(context, 'bundle.tar.xz')));
      server = http.createServer((request, response) => {
        requests.push(request.url ?? '');
        if (request.url === '/moved') {
          response.writeHead(302, { Location: '/files/hello.txt' });
          response.end();
          return;
        }
        const body = served.get(request.url ?? '');
        if (!body) {
          response.writeHead(404);
          response.end('not here\n');
          return;
        }
        response.writeHead(200, { 'Last-Modified': 'Tue, 02 Jan 2024 03:04:05 GMT' });
        response.end(body);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    });

    afterAll(async () => {
      await new Promise((resolve) => server?.close(resolve));
      await buildah?.cleanup();
      await engine?.cleanup();
      fs.rmSync(path.join('/tmp', testName('build-add-oci')), { recursive: true, force: true });
      if (temp) fs.rmSync(temp, { recursive: true, force: true });
    });

    async function ok(args: string[]): Promise<string> {
      const result = await engine.gantry(args);
      expect(result.exitCode, `gantry ${args.join(' ')}:\n${result.stdout}\n${result.stderr}`).toBe(0);
      return result.stdout;
    }

    it('extracts .tar.xz, .tar.bz2 and .tar.zst as buildah does, and copies a compressed non-tar as it is', async () => {
      await ok(['build', '-t', 'added-archives:1', context]);
      const ours = await ok(['run', '--rm', 'added-archives:1', 'sh', '-c', LISTING]);
      expect(ours).toContain('x-xz/inner/a.txt regular file 644 7:8 17');
      expect(ours).toContain('x-bz2/inner/run.sh regular file 750 7:8 10');
      expect(ours).toContain('x-zst/inner/alias symbolic link');
      expect(ours).toContain('from the archive\nfrom the archive\nfrom the archive\n');
      expect(await ok(['run', '--rm', 'added-archives:1', 'stat', '-c', '%u:%g %a', '/x-xz', '/x-bz2'])).toBe(
        '0:0 755\n0:0 755\n',
      );

      const layout = path.join('/tmp', testName('build-add-oci'));
      await ok(['image', 'export', '--format', 'oci', 'demo', layout]);
      const id = await buildah.run('pull', '--quiet', `oci:${layout}`);
      await buildah.run('tag', id, 'localhost/demo:latest');
      await buildah.run('bud', '--quiet', '--pull=never', '-t', 'localhost/added:1', context);
      const container = await buildah.run('from', '--pull=never', 'localhost/added:1');
      try {
        expect(ours.trim()).toBe(await buildah.run('run', container, 'sh', '-c', LISTING));
      } finally {
        await buildah.run('rm', container);
      }
    });

    it('downloads URLs: 0600, Last-Modified, named after the URL, not extracted, checked against --checksum', async () => {
      const hello = served.get('/files/hello.txt')!;
      const digest = createHash('sha256').update(hello).digest('hex');
      const urlContext = path.join(temp, 'url');
      fs.mkdirSync(urlContext);
      fs.writeFileSync(
        path.join(urlContext, 'Containerfile'),
        [
          'FROM demo',
          `ADD --checksum=sha256:${digest} ${base}/files/hello.txt /downloads/`,
          `ADD ${base}/files/archive.tar.gz /downloads/`,
          `ADD ${base}/moved /renamed.txt`,
          '',
        ].join('\n'),
      );
      await ok(['build', '-t', 'added-url:1', urlContext]);
      const listing = await ok([
        'run',
        '--rm',
        'added-url:1',
        'sh',
        '-c',
        'cd / && for f in downloads/hello.txt downloads/archive.tar.gz renamed.txt; do stat -c "%n %F %a %u:%g %Y" $f; done; cat downloads/hello.txt renamed.txt',
      ]);
      const mtime = Date.parse('Tue, 02 Jan 2024 03:04:05 GMT') / 1000;
      expect(listing).toBe(
        [
          `downloads/hello.txt regular file 600 0:0 ${mtime}`,
          // docker never extracts a download, whatever it holds.
          `downloads/archive.tar.gz regular file 600 0:0 ${mtime}`,
          `renamed.txt regular file 600 0:0 ${mtime}`,
          'downloaded over http',
          'downloaded over http',
          '',
        ].join('\n'),
      );

      // The same content again: every step comes from the cache, though it was downloaded again.
      const before = requests.length;
      const again = await ok(['build', '-t', 'added-url:1', urlContext]);
      expect(again.match(/--> CACHED/g)).toHaveLength(3);
      expect(requests.length).toBeGreaterThan(before);
    });

    it('a wrong checksum, a missing file and unsupported URLs fail clearly and leave nothing', async () => {
      const bad = path.join(temp, 'bad-url');
      fs.mkdirSync(bad);
      const before = storeContent(engine.root);
      const zeros = '0'.repeat(64);
      const cases: Array<{ file: string; expected: RegExp }> = [
        {
          file: `FROM demo\nRUN echo one > /one\nADD --checksum=sha256:${zeros} ${base}/files/hello.txt /x\n`,
          expected: new RegExp(
            `the download's digest is sha256:[0-9a-f]{64}, --checksum expects sha256:${zeros}`,
          ),
        },
        { file: `FROM demo\nADD ${base}/files/missing.txt /x\n`, expected: /the server answered 404/ },
        {
          file: 'FROM demo\nADD --checksum=sha256:abc Containerfile /x\n',
          expected: /expected sha256:<64 hex digits>/,
        },
        {
          file: `FROM demo\nADD --checksum=sha256:${zeros} Containerfile /x\n`,
          expected: /a checksum applies to URL sources only/,
        },
        {
          file: 'FROM demo\nADD git@example.invalid:x/y.git /x\n',
          expected: /only http:\/\/ and https:\/\/ URLs/,
        },
        { file: `FROM demo\nCOPY ${base}/files/hello.txt /x\n`, expected: /COPY does not take URLs/ },
      ];
      for (const { file, expected } of cases) {
        fs.writeFileSync(path.join(bad, 'Containerfile'), file);
        const result = await engine.gantry(['build', '-t', 'bad-url:1', bad]);
        expect(result.exitCode, file).toBe(1);
        expect(result.stderr, file).toMatch(expected);
      }
      expect(storeContent(engine.root)).toEqual(before);
      expect(fs.readdirSync(path.join(engine.root, 'tmp'))).toEqual([]);
    });
  },
);
