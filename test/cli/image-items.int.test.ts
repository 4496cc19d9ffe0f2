/**
 * Smaller image behaviours, against Debian's docker-registry started inside the network namespace
 * this test's engine made (reachable only at that namespace's 127.0.0.1): RepoDigests lists only
 * what a registry really holds the image by (after a push or a pull, never a local name), a pull
 * leaves no `<digest>.lock` files in the pull cache and `image prune` removes stale ones,
 * `image import -` reads an archive from stdin, and a containers/image `dir:` layout is refused
 * with a message naming what import accepts.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineForSuite, GANTRY, testName } from '../support/engine.js';
import { describeUnless, needsRoot } from '../support/skip.js';
import { registryMissing, startRegistry, type Registry } from '../runtime/images/registry-support.js';
import { makeTempDirectory } from '../runtime/images/support.js';

describeUnless(
  [needsRoot(), registryMissing],
  'image items: RepoDigests, pull cache locks, import -, dir:',
  () => {
    const engine = engineForSuite('image-items');
    let base: string;
    let registry: Registry;
    let otherRoot: string;

    beforeAll(async () => {
      base = makeTempDirectory('image-items');
      otherRoot = path.join(base, 'other-root');
      registry = await startRegistry(path.join(base, 'registry'), { netns: engine.netns });
    });

    afterAll(async () => {
      await registry?.stop();
      if (base) fs.rmSync(base, { recursive: true, force: true });
    });

    async function ok(args: string[], options: { input?: Buffer } = {}): Promise<string> {
      const result = await engine.gantry(args, options);
      expect(result.exitCode, `gantry ${args.join(' ')}:\n${result.stdout}\n${result.stderr}`).toBe(0);
      return result.stdout;
    }

    /** gantry with a second state root, in the same namespace as the registry. */
    async function other(args: string[], root = otherRoot): Promise<string> {
      const result = await engine.inNetns(GANTRY, args, {
        env: { GANTRY_ROOT: root, GANTRY_CGROUP_PARENT: testName('image-items-other') },
      });
      expect(result.exitCode, `gantry ${args.join(' ')}:\n${result.stdout}\n${result.stderr}`).toBe(0);
      return result.stdout;
    }

    async function repoDigests(run: (args: string[]) => Promise<string>, image: string): Promise<string[]> {
      return (JSON.parse(await run(['image', 'inspect', image])) as Array<{ RepoDigests: string[] }>)[0]!
        .RepoDigests;
    }

    it('RepoDigests: none for a local image, the pushed and the pulled repository@digest after', async () => {
      await ok(['tag', 'demo', 'local-only/demo:1']);
      expect(await repoDigests(ok, 'local-only/demo:1')).toEqual([]);

      const pushed = await ok(['push', 'demo', `${registry.host}/items/demo:v1`]);
      const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed)?.[1];
      expect(digest).toBeDefined();
      expect(await repoDigests(ok, 'demo')).toEqual([`${registry.host}/items/demo@${digest}`]);

      await other(['pull', `${registry.host}/items/demo:v1`]);
      expect(await repoDigests(other, `${registry.host}/items/demo:v1`)).toEqual([
        `${registry.host}/items/demo@${digest}`,
      ]);
    });

    it('a pull leaves no lock files in the pull cache; image prune removes stale ones', async () => {
      const cache = path.join(otherRoot, 'cache', 'pull', 'sha256');
      expect(fs.existsSync(path.join(otherRoot, 'images'))).toBe(true);
      const leftovers = fs.existsSync(cache) ? fs.readdirSync(cache) : [];
      expect(leftovers.filter((name) => name.endsWith('.lock'))).toEqual([]);

      // What an older gantry, or one killed mid-pull, left.
      fs.mkdirSync(cache, { recursive: true });
      const stale = path.join(cache, `${'e'.repeat(64)}.lock`);
      fs.writeFileSync(stale, '');
      await other(['image', 'prune', '-f']);
      expect(fs.existsSync(stale)).toBe(false);
    });

    it('image import - reads an archive from stdin, as export - writes one', async () => {
      const enter = ['nsenter', `--net=/run/netns/${engine.netns}`, '--', GANTRY];
      const archive = execFileSync(enter[0]!, [...enter.slice(1), 'image', 'export', 'demo', '-'], {
        env: { ...process.env, ...engine.env },
        maxBuffer: 1 << 30,
      });
      await other(['image', 'rm', `${registry.host}/items/demo:v1`]);
      const imported = execFileSync(enter[0]!, [...enter.slice(1), 'image', 'import', '-', 'from-stdin:1'], {
        env: { ...process.env, GANTRY_ROOT: otherRoot, GANTRY_CGROUP_PARENT: testName('image-items-other') },
        input: archive,
        encoding: 'utf8',
      });
      expect(imported).toMatch(/^Imported from-stdin:1 sha256:[0-9a-f]{64}\n$/);
      const id = async (run: (args: string[]) => Promise<string>, image: string): Promise<string> =>
        (await run(['image', 'inspect', '--format', '{{.Id}}', image])).trim();
      expect(await id(other, 'from-stdin:1')).toBe(await id(ok, 'demo'));
    });

    it('a containers/image dir: layout is refused, naming what import accepts', async () => {
      const layout = path.join(base, 'oci-layout');
      await ok(['image', 'export', '--format', 'oci', 'demo', layout]);
      const dir = path.join(base, 'dir-layout');
      execFileSync('skopeo', ['copy', '--quiet', `oci:${layout}`, `dir:${dir}`]);
      const result = await engine.gantry(['image', 'import', dir, 'from-dir:1']);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`cannot import ${dir}: it is a containers/image "dir:" layout`);
      expect(result.stderr).toContain(
        'import accepts an OCI layout directory, an oci-archive or a docker-archive',
      );
      expect((await engine.gantry(['image', 'inspect', 'from-dir:1'])).exitCode).not.toBe(0);
    });

    /** The manifest as the registry holds it (skopeo, inside the namespace). */
    async function registryManifest(
      reference: string,
    ): Promise<{ mediaType: string; layers: Array<{ mediaType: string }> }> {
      const result = await engine.inNetns('skopeo', [
        'inspect',
        '--raw',
        '--tls-verify=false',
        `docker://${reference}`,
      ]);
      expect(result.exitCode, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as { mediaType: string; layers: Array<{ mediaType: string }> };
    }

    it('push gzips the plain layers of a docker-archive import, and converts with --compression-format/--compression-level', async () => {
      // from-stdin:1 came from a docker-archive: its layers are stored as plain tars.
      await other(['push', 'from-stdin:1', `${registry.host}/items/plain:v1`]);
      const plain = await registryManifest(`${registry.host}/items/plain:v1`);
      expect(plain.layers.map((layer) => layer.mediaType)).toEqual(
        plain.layers.map(() => 'application/vnd.oci.image.layer.v1.tar+gzip'),
      );

      await other([
        'push',
        '--compression-format',
        'zstd',
        '--compression-level',
        '12',
        'from-stdin:1',
        `${registry.host}/items/zstd:v1`,
      ]);
      const zstd = await registryManifest(`${registry.host}/items/zstd:v1`);
      expect(zstd.layers.map((layer) => layer.mediaType)).toEqual(
        zstd.layers.map(() => 'application/vnd.oci.image.layer.v1.tar+zstd'),
      );
      // The same image (config) either way: pulled back, it has the ID it was pushed with, and runs.
      await ok(['pull', `${registry.host}/items/zstd:v1`]);
      const id = async (image: string): Promise<string> =>
        (await ok(['image', 'inspect', '--format', '{{.Id}}', image])).trim();
      expect(await id(`${registry.host}/items/zstd:v1`)).toBe(await id('demo'));
      expect(await ok(['run', '--rm', `${registry.host}/items/zstd:v1`, 'echo', 'zstd ok'])).toBe(
        'zstd ok\n',
      );

      const badLevel = await engine.gantry([
        'push',
        '--compression-format',
        'gzip',
        '--compression-level',
        '12',
        'demo',
        `${registry.host}/items/bad:v1`,
      ]);
      expect(badLevel.exitCode).toBe(1);
      expect(badLevel.stderr).toContain('invalid --compression-level "12": gzip levels go from 1 to 9');
      const badFormat = await engine.gantry([
        'push',
        '--compression-format',
        'xz',
        'demo',
        `${registry.host}/items/bad:v1`,
      ]);
      expect(badFormat.exitCode).toBe(1);
      expect(badFormat.stderr).toContain('accepted: gzip, zstd');
    });

    it('re-pushing a pulled docker v2s2 image keeps its manifest and digest', async () => {
      const layout = path.join(base, 'v2s2-source');
      await ok(['image', 'export', '--format', 'oci', 'demo', layout]);
      const copied = await engine.inNetns('skopeo', [
        'copy',
        '--quiet',
        '--format',
        'v2s2',
        '--dest-tls-verify=false',
        `oci:${layout}`,
        `docker://${registry.host}/items/v2s2:v1`,
      ]);
      expect(copied.exitCode, copied.stderr).toBe(0);
      const original = await engine.inNetns('skopeo', [
        'inspect',
        '--tls-verify=false',
        '--format',
        '{{.Digest}}',
        `docker://${registry.host}/items/v2s2:v1`,
      ]);
      const digest = original.stdout.trim();
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);

      // A root that has never seen the image: the pull stores the v2s2 manifest as served.
      const fresh = path.join(base, 'fresh-root');
      await other(['pull', `${registry.host}/items/v2s2:v1`], fresh);
      const pushed = await other(
        ['push', `${registry.host}/items/v2s2:v1`, `${registry.host}/items/v2s2-again:v1`],
        fresh,
      );
      expect(pushed).toContain(`digest: ${digest}`);
      const again = await registryManifest(`${registry.host}/items/v2s2-again:v1`);
      expect(again.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    });
  },
);
