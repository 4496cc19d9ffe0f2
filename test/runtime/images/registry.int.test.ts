/**
 * Pull and push against real registries (Debian's docker-registry on 127.0.0.1): anonymous,
 * htpasswd basic auth, and a token realm; seeded with skopeo from images buildah built offline.
 * Faults (401/404/500, a connection dropped mid-blob, corrupted bytes) come from the registry
 * itself or from a proxy in front of it; after each failure the store must be exactly as before,
 * and a retry must resume what was already downloaded.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageFormatError, NotFoundError } from '../../../source/runtime/errors.js';
import { digestHex } from '../../../source/runtime/images/digest.js';
import { RegistryClient } from '../../../source/runtime/images/registry/client.js';
import {
  RegistryAuthError,
  RegistryConnectionError,
  RegistryResponseError,
} from '../../../source/runtime/images/registry/errors.js';
import { pullImage } from '../../../source/runtime/images/registry/pull.js';
import { pushImage } from '../../../source/runtime/images/registry/push.js';
import {
  pullCacheDirectory,
  type PullOptions,
  type TransferEvent,
} from '../../../source/runtime/images/registry/transfer.js';
import { ImageStore } from '../../../source/runtime/images/store.js';
import { StateLayout } from '../../../source/runtime/paths.js';
import {
  buildSeedImages,
  registryMissing,
  htpasswdLine,
  skopeoCopy,
  startFaultProxy,
  startRegistry,
  startTokenServer,
  type FaultProxy,
  type Registry,
  type SeedImages,
  type TokenServer,
} from './registry-support.js';
import { Buildah, makeTempDirectory, storeContent } from './support.js';
import { describeUnless, needsCommand, needsRoot } from '../../support/skip.js';

const missing = [needsRoot(), registryMissing, needsCommand('buildah')];
const FAST_RETRY = { attempts: 3, baseDelayMs: 20 };

describeUnless(missing, 'registry pull and push (docker-registry on 127.0.0.1)', () => {
  let base: string;
  let buildah: Buildah;
  let seeds: SeedImages;
  let anonymous: Registry;
  let basic: Registry;
  let tokenServer: TokenServer;
  let tokenRegistry: Registry;
  let counter = 0;

  function freshStore(): { store: ImageStore; root: string } {
    counter += 1;
    const root = path.join(base, `state-${counter}`);
    return { store: new ImageStore(new StateLayout(root), { durable: false }), root };
  }

  function options(extra: PullOptions = {}): PullOptions {
    return { retry: FAST_RETRY, ...extra };
  }

  /** What the store holds (blobs, layers, images) and leftovers in tmp/; the pull cache aside. */
  function storedObjects(root: string): string[] {
    return storeContent(root).filter((line) => /^. (blobs|layers|images|tmp)\//.test(line));
  }

  function blobGets(proxy: FaultProxy): string[] {
    return proxy.log
      .filter((entry) => entry.method === 'GET' && entry.path.includes('/blobs/'))
      .map((entry) => entry.path);
  }

  beforeAll(async () => {
    base = makeTempDirectory('registry');
    buildah = new Buildah(base);
    seeds = await buildSeedImages(buildah, base);
    anonymous = await startRegistry(path.join(base, 'registry-anonymous'));
    basic = await startRegistry(path.join(base, 'registry-basic'), {
      htpasswd: htpasswdLine('alice', 'wonderland'),
    });
    tokenServer = await startTokenServer(path.join(base, 'token'), { bob: 'builder' });
    tokenRegistry = await startRegistry(path.join(base, 'registry-token'), { token: tokenServer });

    await skopeoCopy(`oci:${seeds.base}:v1`, `docker://${anonymous.host}/seed/base:v1`);
    await skopeoCopy(`oci:${seeds.app}:v1`, `docker://${anonymous.host}/seed/app:v1`);
    await skopeoCopy(`oci:${seeds.multiList}:v1`, `docker://${anonymous.host}/seed/multi:v1`, ['--all']);
    // Through a local layout first: copying straight to the registry would reuse the gzip blob it has.
    const zstdLayout = path.join(base, 'seed-zstd');
    await skopeoCopy(`oci:${seeds.base}:v1`, `oci:${zstdLayout}:v1`, ['--dest-compress-format', 'zstd']);
    await skopeoCopy(`oci:${zstdLayout}:v1`, `docker://${anonymous.host}/seed/zstd:v1`);
    await skopeoCopy(`oci:${seeds.app}:v1`, `docker://${basic.host}/private/app:v1`, [
      '--dest-creds',
      'alice:wonderland',
    ]);
    await skopeoCopy(`oci:${seeds.app}:v1`, `docker://${tokenRegistry.host}/team/app:v1`, [
      '--dest-creds',
      'bob:builder',
    ]);
  });

  afterAll(async () => {
    for (const server of [anonymous, basic, tokenRegistry]) await server?.stop();
    await tokenServer?.stop();
    await buildah?.cleanup();
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  describe('anonymous registry', () => {
    it('pulls a buildah-made image with its layers verified and unpacked', async () => {
      const { store } = freshStore();
      const events: TransferEvent[] = [];
      const result = await pullImage(
        store,
        `${anonymous.host}/seed/app:v1`,
        options({ onEvent: (event) => events.push(event) }),
      );
      expect(result.name).toBe(`${anonymous.host}/seed/app:v1`);
      expect(result.layers.map((layer) => layer.source)).toEqual(['downloaded', 'downloaded']);
      // The same manifest digest skopeo sees, and the same image ID.
      const inspected = JSON.parse(
        execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${anonymous.host}/seed/app:v1`], {
          encoding: 'utf8',
        }),
      ) as { Digest: string };
      expect(result.manifestDigest).toBe(inspected.Digest);
      const resolved = await store.resolveForRun(`${anonymous.host}/seed/app:v1`);
      expect(fs.readFileSync(path.join(resolved.layerDirs[1]!, 'app/hello'), 'utf8')).toBe(
        'hello from app\n',
      );
      expect(fs.readlinkSync(path.join(resolved.layerDirs[0]!, 'bin/sh'))).toBe('busybox');
      expect(resolved.config.config?.Cmd).toEqual(['/bin/sh']);
      // Progress: every layer went waiting -> transferring -> done.
      const phases = events.filter((event) => event.type === 'blob').map((event) => event.phase);
      expect(phases).toContain('transferring');
      expect(phases.filter((phase) => phase === 'done')).toHaveLength(2);
      // The pull cache is emptied once the image is stored.
      expect(
        fs.readdirSync(pullCacheDirectory(store.layout)).filter((name) => !name.endsWith('.lock')),
      ).toEqual([]);
    });

    it('does not fetch layers the store already has (checked at the registry)', async () => {
      const { store } = freshStore();
      const proxy = await startFaultProxy(anonymous.host);
      try {
        await pullImage(store, `${proxy.host}/seed/base:v1`, options());
        const baseLayer = (await store.resolve(`${proxy.host}/seed/base:v1`)).layers[0]!.blobDigest;
        proxy.log.length = 0;
        const result = await pullImage(store, `${proxy.host}/seed/app:v1`, options());
        expect(result.layers.map((layer) => layer.source)).toEqual(['present', 'downloaded']);
        const fetched = blobGets(proxy);
        // Config and the one new layer; never the base layer.
        expect(fetched).toHaveLength(2);
        expect(fetched.some((entry) => entry.endsWith(baseLayer))).toBe(false);
        // Pulling again fetches no blob at all.
        proxy.log.length = 0;
        const again = await pullImage(store, `${proxy.host}/seed/app:v1`, options());
        expect(again.layers.map((layer) => layer.source)).toEqual(['present', 'present']);
        expect(blobGets(proxy).filter((entry) => !entry.endsWith(again.record.configDigest))).toEqual([]);
      } finally {
        await proxy.stop();
      }
    });

    it('picks this host platform from a multi-platform index, or the one --platform names', async () => {
      const { store } = freshStore();
      const host = await pullImage(store, `${anonymous.host}/seed/multi:v1`, options());
      expect(host.indexDigest).toMatch(/^sha256:/);
      expect(host.manifestDigest).not.toBe(host.indexDigest);
      let resolved = await store.resolveForRun(host.record.id);
      expect(resolved.config.architecture).toBe(seeds.hostArchitecture);
      expect(fs.readFileSync(path.join(resolved.layerDirs[0]!, 'platform'), 'utf8')).toBe(
        `${seeds.hostArchitecture}\n`,
      );

      const other = await pullImage(
        store,
        `${anonymous.host}/seed/multi:v1`,
        options({ platform: { os: 'linux', architecture: seeds.otherArchitecture } }),
      );
      resolved = await store.resolveForRun(other.record.id);
      expect(resolved.config.architecture).toBe(seeds.otherArchitecture);

      // The index digest finds the image last pulled from it (it moves, as a tag does); each
      // platform's manifest digest finds its own.
      const repository = `${anonymous.host}/seed/multi`;
      expect((await store.resolve(`${repository}@${host.indexDigest}`)).id).toBe(other.record.id);
      expect((await store.resolve(`${repository}@${host.manifestDigest}`)).id).toBe(host.record.id);
      expect((await store.resolve(`${repository}@${other.manifestDigest}`)).id).toBe(other.record.id);
      expect(other.record.digests).toEqual([
        `${repository}@${other.manifestDigest}`,
        `${repository}@${host.indexDigest}`,
      ]);

      const error = await pullImage(
        store,
        `${anonymous.host}/seed/multi:v1`,
        options({ platform: { os: 'linux', architecture: 's390x' } }),
      ).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as Error).message).toContain('no image for linux/s390x');
      expect((error as Error).message).toContain(`linux/${seeds.hostArchitecture}`);
    });

    it('pulls zstd layers (skopeo --dest-compress-format zstd)', async () => {
      const { store } = freshStore();
      const result = await pullImage(store, `${anonymous.host}/seed/zstd:v1`, options());
      expect(result.record.layers[0]!.blobMediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
      // Same content as the gzip original: the same diff_id, so the same image ID.
      const gzip = await pullImage(store, `${anonymous.host}/seed/base:v1`, options());
      expect(result.record.id).toBe(gzip.record.id);
      const resolved = await store.resolveForRun(result.record.id);
      expect(fs.readFileSync(path.join(resolved.layerDirs[0]!, 'etc/release'), 'utf8')).toBe('base\n');
    });

    it('pushes an image and another store pulls back the same image ID and manifest', async () => {
      const source = freshStore().store;
      await source.import(seeds.app, { name: 'localhost/seed/app:v1' });
      const pushed = await pushImage(
        source,
        'localhost/seed/app:v1',
        `${anonymous.host}/roundtrip/app:v2`,
        options(),
      );
      expect(pushed.blobs.map((blob) => blob.action)).toEqual(['uploaded', 'uploaded', 'uploaded']);
      const target = freshStore().store;
      const pulled = await pullImage(target, `${anonymous.host}/roundtrip/app:v2`, options());
      expect(pulled.record.id).toBe((await source.resolve('localhost/seed/app:v1')).id);
      expect(pulled.manifestDigest).toBe(pushed.manifestDigest);

      // A second push: the registry has every blob (HEAD), nothing is uploaded again.
      const again = await pushImage(
        source,
        'localhost/seed/app:v1',
        `${anonymous.host}/roundtrip/app:v2`,
        options(),
      );
      expect(again.blobs.map((blob) => blob.action)).toEqual(['exists', 'exists', 'exists']);
    });

    it('mounts blobs from another repository of the registry instead of uploading them', async () => {
      const { store } = freshStore();
      await pullImage(store, `${anonymous.host}/seed/app:v1`, options());
      const pushed = await pushImage(
        store,
        `${anonymous.host}/seed/app:v1`,
        `${anonymous.host}/mounted/app:v1`,
        options(),
      );
      expect(pushed.blobs.map((blob) => blob.action)).toEqual(['mounted', 'mounted', 'mounted']);
      const pulled = await pullImage(freshStore().store, `${anonymous.host}/mounted/app:v1`, options());
      expect(pulled.manifestDigest).toBe(pushed.manifestDigest);
    });
  });

  describe('concurrency and references', () => {
    it('two pulls of the same image at once share the downloads and both succeed', async () => {
      const { store } = freshStore();
      const [first, second] = await Promise.all([
        pullImage(store, `${anonymous.host}/seed/app:v1`, options()),
        pullImage(
          new ImageStore(store.layout, { durable: false }),
          `${anonymous.host}/seed/app:v1`,
          options(),
        ),
      ]);
      expect(first.record.id).toBe(second.record.id);
      expect((await store.list()).map((record) => record.id)).toEqual([first.record.id]);
      expect(
        fs.readdirSync(pullCacheDirectory(store.layout)).filter((name) => !name.endsWith('.lock')),
      ).toEqual([]);
    });

    it('pulls by digest: no tag is given to the image, the digest finds it', async () => {
      const { store } = freshStore();
      const byTag = await pullImage(freshStore().store, `${anonymous.host}/seed/base:v1`, options());
      const reference = `${anonymous.host}/seed/base@${byTag.manifestDigest}`;
      const result = await pullImage(store, reference, options());
      expect(result.name).toBeUndefined();
      expect(result.record.names).toEqual([]);
      expect((await store.resolve(reference)).id).toBe(byTag.record.id);
      // Not dangling: the digest names it, so prune keeps it, and inspect lists it.
      expect(result.record.digests).toEqual([reference]);
      expect((await store.prune()).deleted).toEqual([]);
      expect((await store.resolve(reference)).id).toBe(byTag.record.id);
      const wrong = `${anonymous.host}/seed/base@sha256:${'0'.repeat(64)}`;
      await expect(pullImage(store, wrong, options())).rejects.toThrow(NotFoundError);
    });
  });

  describe('TLS registry with a self-signed certificate', () => {
    let secure: Registry;

    beforeAll(async () => {
      secure = await startRegistry(path.join(base, 'registry-tls'), { tls: true });
      await skopeoCopy(`oci:${seeds.base}:v1`, `docker://${secure.host}/seed/base:v1`);
    });

    afterAll(async () => {
      await secure?.stop();
    });

    it('refuses the certificate by default and says how to accept it', async () => {
      const error = await pullImage(freshStore().store, `${secure.host}/seed/base:v1`, options()).catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(RegistryConnectionError);
      expect((error as Error).message).toContain('the TLS certificate was not accepted');
      expect((error as RegistryConnectionError).hint).toContain('--tls-verify=false');
    });

    it('pulls over HTTPS with --tls-verify=false', async () => {
      const result = await pullImage(
        freshStore().store,
        `${secure.host}/seed/base:v1`,
        options({ tlsVerify: false }),
      );
      expect(result.layers).toHaveLength(1);
    });
  });

  describe('htpasswd (basic auth) registry', () => {
    it('refuses an anonymous pull with an error that says to log in, and stores nothing', async () => {
      const { store, root } = freshStore();
      const before = storeContent(root);
      const error = await pullImage(store, `${basic.host}/private/app:v1`, options()).catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(RegistryAuthError);
      expect((error as Error).message).toContain('authentication required');
      expect((error as RegistryAuthError).hint).toContain(`gantry login ${basic.host}`);
      expect(storeContent(root)).toEqual(before);
    });

    it('refuses wrong credentials by name', async () => {
      const { store } = freshStore();
      const error = await pullImage(
        store,
        `${basic.host}/private/app:v1`,
        options({ credentials: { username: 'alice', password: 'nope' } }),
      ).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RegistryAuthError);
      expect((error as Error).message).toContain('refused the credentials of "alice"');
    });

    it('pulls and pushes with the right credentials', async () => {
      const { store } = freshStore();
      const credentials = { username: 'alice', password: 'wonderland' };
      const pulled = await pullImage(store, `${basic.host}/private/app:v1`, options({ credentials }));
      const pushed = await pushImage(
        store,
        pulled.record.id,
        `${basic.host}/private/copy:v1`,
        options({ credentials }),
      );
      expect(pushed.manifestDigest).toBe(pulled.manifestDigest);
      const client = new RegistryClient({ registry: basic.host, credentials });
      try {
        await client.verifyCredentials();
        expect(await client.manifestDigest('private/copy', 'v1')).toBe(pushed.manifestDigest);
      } finally {
        client.close();
      }
    });
  });

  describe('token (bearer) registry', () => {
    it('pulls with a token from the realm, asked once per scope', async () => {
      const { store } = freshStore();
      tokenServer.requests.length = 0;
      const result = await pullImage(
        store,
        `${tokenRegistry.host}/team/app:v1`,
        options({ credentials: { username: 'bob', password: 'builder' } }),
      );
      expect(result.layers).toHaveLength(2);
      const scopes = tokenServer.requests.map((request) => request.scopes.join(' '));
      expect(scopes).toEqual(['repository:team/app:pull']);
      expect(tokenServer.requests[0]!.user).toBe('bob');
    });

    it('pushes with push scope and mounts across repositories', async () => {
      const { store } = freshStore();
      const credentials = { username: 'bob', password: 'builder' };
      await pullImage(store, `${tokenRegistry.host}/team/app:v1`, options({ credentials }));
      const pushed = await pushImage(
        store,
        `${tokenRegistry.host}/team/app:v1`,
        `${tokenRegistry.host}/team/other:v1`,
        options({ credentials }),
      );
      expect(pushed.blobs.map((blob) => blob.action)).toEqual(['mounted', 'mounted', 'mounted']);
      expect(
        tokenServer.requests.some(
          (request) =>
            request.scopes.includes('repository:team/app:pull') &&
            request.scopes.includes('repository:team/other:pull,push'),
        ),
      ).toBe(true);
    });

    it('tells an anonymous user to log in, and refuses a wrong password at the token server', async () => {
      const { store } = freshStore();
      const anonymousError = await pullImage(store, `${tokenRegistry.host}/team/app:v1`, options()).catch(
        (caught: unknown) => caught,
      );
      expect(anonymousError).toBeInstanceOf(RegistryAuthError);
      expect((anonymousError as RegistryAuthError).hint).toContain('gantry login');
      const wrong = await pullImage(
        store,
        `${tokenRegistry.host}/team/app:v1`,
        options({ credentials: { username: 'bob', password: 'x' } }),
      ).catch((caught: unknown) => caught);
      expect(wrong).toBeInstanceOf(RegistryAuthError);
      expect((wrong as Error).message).toContain('refused the credentials of "bob"');
    });
  });

  describe('faults', () => {
    let proxy: FaultProxy;

    beforeAll(async () => {
      proxy = await startFaultProxy(anonymous.host);
    });

    afterAll(async () => {
      await proxy?.stop();
    });

    async function layerDigest(reference: string): Promise<string> {
      const client = new RegistryClient({ registry: anonymous.host });
      try {
        const manifest = JSON.parse(
          (await client.getManifest(reference.split(':')[0]!, reference.split(':')[1]!)).bytes.toString(
            'utf8',
          ),
        ) as {
          layers: Array<{ digest: string; size: number }>;
        };
        return manifest.layers.at(-1)!.digest;
      } finally {
        client.close();
      }
    }

    it('404: names the repository and the tag, and stores nothing', async () => {
      const { store, root } = freshStore();
      const before = storeContent(root);
      const missingTag = await pullImage(store, `${proxy.host}/seed/app:nope`, options()).catch(
        (caught: unknown) => caught,
      );
      expect(missingTag).toBeInstanceOf(NotFoundError);
      expect((missingTag as Error).message).toBe(
        `manifest unknown: ${proxy.host}/seed/app:nope not found (tags: v1)`,
      );
      const missingRepository = await pullImage(store, `${proxy.host}/seed/absent:v1`, options()).catch(
        (caught: unknown) => caught,
      );
      expect((missingRepository as Error).message).toBe(
        `manifest unknown: repository ${proxy.host}/seed/absent not found`,
      );
      expect(storeContent(root)).toEqual(before);
    });

    it('500: retries with backoff, then fails with the status, and stores nothing', async () => {
      const { store, root } = freshStore();
      const digest = await layerDigest('seed/app:v1');
      proxy.rules.length = 0;
      proxy.log.length = 0;
      proxy.rules.push({ method: 'GET', path: new RegExp(`/blobs/${digest}$`), action: { status: 500 } });
      const error = await pullImage(store, `${proxy.host}/seed/app:v1`, options()).catch(
        (caught: unknown) => caught,
      );
      proxy.rules.length = 0;
      expect(error).toBeInstanceOf(RegistryConnectionError);
      expect((error as Error).message).toContain('failed after 3 attempts');
      expect((error as Error).message).toContain('500 Internal Server Error');
      expect(blobGets(proxy).filter((entry) => entry.endsWith(digest))).toHaveLength(3);
      expect(storedObjects(root)).toEqual([]);
    });

    it('500 on a manifest: a RegistryResponseError after the retries', async () => {
      const { store } = freshStore();
      proxy.rules.length = 0;
      proxy.rules.push({ method: 'GET', path: /\/manifests\//, action: { status: 503 } });
      const error = await pullImage(store, `${proxy.host}/seed/app:v1`, options()).catch(
        (caught: unknown) => caught,
      );
      proxy.rules.length = 0;
      expect(error).toBeInstanceOf(RegistryResponseError);
      expect((error as RegistryResponseError).status).toBe(503);
    });

    it('a connection dropped mid-blob is retried from where it stopped', async () => {
      const { store } = freshStore();
      const digest = await layerDigest('seed/base:v1');
      proxy.rules.length = 0;
      proxy.log.length = 0;
      proxy.rules.push({
        method: 'GET',
        path: new RegExp(`/blobs/${digest}$`),
        action: { dropAfter: 100_000 },
        times: 1,
      });
      const result = await pullImage(store, `${proxy.host}/seed/base:v1`, options());
      proxy.rules.length = 0;
      expect(result.layers[0]!.source).toBe('downloaded');
      const attempts = proxy.log.filter((entry) => entry.path.endsWith(digest));
      expect(attempts.map((entry) => entry.range)).toEqual([undefined, 'bytes=100000-']);
    });

    it('a blob that keeps dropping fails, keeps what it got, and the next pull resumes it', async () => {
      const { store, root } = freshStore();
      const digest = await layerDigest('seed/base:v1');
      proxy.rules.length = 0;
      proxy.log.length = 0;
      // Each attempt gets 64 KiB further; three attempts, then the pull fails.
      proxy.rules.push({
        method: 'GET',
        path: new RegExp(`/blobs/${digest}$`),
        action: { dropAfter: 65_536 },
      });
      const error = await pullImage(store, `${proxy.host}/seed/base:v1`, options()).catch(
        (caught: unknown) => caught,
      );
      proxy.rules.length = 0;
      expect(error).toBeInstanceOf(RegistryConnectionError);
      expect((error as RegistryConnectionError).hint).toContain('pull again');
      expect(storedObjects(root)).toEqual([]);
      const partial = path.join(pullCacheDirectory(store.layout), `${digestHex(digest)}.partial`);
      // Each attempt continued where the last stopped (the tail of a cut response may be lost).
      const kept = fs.statSync(partial).size;
      expect(kept).toBeGreaterThan(2 * 65_536);
      expect(kept).toBeLessThanOrEqual(3 * 65_536);

      proxy.log.length = 0;
      const result = await pullImage(store, `${proxy.host}/seed/base:v1`, options());
      expect(result.layers[0]!.source).toBe('resumed');
      expect(proxy.log.filter((entry) => entry.path.endsWith(digest)).map((entry) => entry.range)).toEqual([
        `bytes=${kept}-`,
      ]);
      expect(fs.existsSync(partial)).toBe(false);
      const resolved = await store.resolveForRun(result.record.id);
      expect(fs.readFileSync(path.join(resolved.layerDirs[0]!, 'etc/release'), 'utf8')).toBe('base\n');
    });

    it('corrupted bytes: a digest mismatch, the partial download is thrown away, nothing stored', async () => {
      const { store, root } = freshStore();
      const digest = await layerDigest('seed/base:v1');
      proxy.rules.length = 0;
      proxy.rules.push({
        method: 'GET',
        path: new RegExp(`/blobs/${digest}$`),
        action: { corrupt: true },
        times: 1,
      });
      const error = await pullImage(store, `${proxy.host}/seed/base:v1`, options()).catch(
        (caught: unknown) => caught,
      );
      proxy.rules.length = 0;
      expect(error).toBeInstanceOf(ImageFormatError);
      expect((error as Error).message).toContain(
        `digest mismatch for the blob downloaded from ${proxy.host}/seed/base: expected ${digest}`,
      );
      expect(storedObjects(root)).toEqual([]);
      expect(
        fs.readdirSync(pullCacheDirectory(store.layout)).filter((name) => !name.endsWith('.lock')),
      ).toEqual([]);
      // The registry's copy is fine: a second pull works.
      await pullImage(store, `${proxy.host}/seed/base:v1`, options());
    });

    it('an unreachable registry: a connection error that names it', async () => {
      const { store } = freshStore();
      const error = await pullImage(store, '127.0.0.1:1/seed/base:v1', options()).catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(RegistryConnectionError);
      expect((error as Error).message).toContain('cannot reach the registry 127.0.0.1:1');
      expect((error as Error).message).toContain('connection refused');
    });
  });
});
