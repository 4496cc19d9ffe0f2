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
    async function other(args: string[]): Promise<string> {
      const result = await engine.inNetns(GANTRY, args, {
        env: { GANTRY_ROOT: otherRoot, GANTRY_CGROUP_PARENT: testName('image-items-other') },
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
  },
);
