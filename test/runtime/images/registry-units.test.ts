/**
 * Unit tests of the pieces under pull/push/export that need no registry: challenge parsing, the
 * auth file, platform flags, zstd decoding, concurrency, the progress renderer, and the sweep of
 * the pull cache after a killed pull.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { TransferProgress } from '../../../source/cli/progress.js';
import { CorruptStateError, ImageFormatError, InvalidArgumentError } from '../../../source/runtime/errors.js';
import { parseExportFormat } from '../../../source/runtime/images/export/write.js';
import { parsePlatform } from '../../../source/runtime/images/import/platform.js';
import {
  createZstdDecompressor,
  detectCompression,
} from '../../../source/runtime/images/layer/compression.js';
import {
  authFileLocation,
  lookupCredentials,
  normalizeServer,
  removeCredentials,
  storeCredentials,
} from '../../../source/runtime/images/registry/auth-file.js';
import { acquireBlobLock, sweepPullCache } from '../../../source/runtime/images/registry/blob-lock.js';
import { parseChallenges } from '../../../source/runtime/images/registry/challenge.js';
import { isLoopbackRegistry } from '../../../source/runtime/images/registry/client.js';
import { mapLimit } from '../../../source/runtime/images/registry/transfer.js';

/** "hello zstd layer\n" x 20, compressed by zstd -19. */
const ZSTD_FRAME = Buffer.from(
  '28b52ffd0468c500008868656c6c6f207a737464206c617965720a010081489d4b3447a740',
  'hex',
);

describe('WWW-Authenticate challenges', () => {
  it('parses Bearer with quoted params, Basic, and several challenges in one header', () => {
    expect(
      parseChallenges(
        'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.example/token',
          service: 'registry.example',
          scope: 'repository:a/b:pull,push',
        },
      },
    ]);
    expect(parseChallenges('Basic realm="Registry Realm"')).toEqual([
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
    ]);
    expect(parseChallenges('Basic realm="a, \\"b\\"", Bearer realm=https://t/x, service=s')).toEqual([
      { scheme: 'basic', params: { realm: 'a, "b"' } },
      { scheme: 'bearer', params: { realm: 'https://t/x', service: 's' } },
    ]);
    expect(parseChallenges(undefined)).toEqual([]);
  });
});

describe('auth file', () => {
  const directories: string[] = [];
  afterEach(() => {
    for (const directory of directories.splice(0)) fs.rmSync(directory, { recursive: true, force: true });
  });
  function temporary(): string {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-auth-'));
    directories.push(directory);
    return directory;
  }

  it('chooses --authfile, then $REGISTRY_AUTH_FILE, else <root>/auth.json with ~/.docker/config.json read-only', () => {
    expect(authFileLocation('/state', '/x/auth.json', {})).toEqual({
      writable: '/x/auth.json',
      readable: ['/x/auth.json'],
    });
    expect(authFileLocation('/state', undefined, { REGISTRY_AUTH_FILE: '/y.json' })).toEqual({
      writable: '/y.json',
      readable: ['/y.json'],
    });
    expect(authFileLocation('/state', undefined, { HOME: '/home/u' })).toEqual({
      writable: '/state/auth.json',
      readable: ['/state/auth.json', '/home/u/.docker/config.json'],
    });
  });

  it('stores 0600, keeps other entries, reads docker config entries, and removes', async () => {
    const directory = temporary();
    const docker = path.join(directory, 'docker.json');
    fs.writeFileSync(
      docker,
      JSON.stringify({
        auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('hub:secret').toString('base64') } },
        credsStore: 'x',
      }),
    );
    const location = {
      writable: path.join(directory, 'auth.json'),
      readable: [path.join(directory, 'auth.json'), docker],
    };
    await storeCredentials(location, 'localhost:5000', { username: 'a', password: 'p:with:colons' });
    await storeCredentials(location, 'https://registry.example/v2/', { username: 'b', password: 'q' });
    expect(fs.statSync(location.writable).mode & 0o777).toBe(0o600);
    expect(await lookupCredentials(location, 'localhost:5000')).toEqual({
      username: 'a',
      password: 'p:with:colons',
    });
    expect(await lookupCredentials(location, 'registry.example')).toEqual({ username: 'b', password: 'q' });
    expect(await lookupCredentials(location, 'docker.io')).toEqual({ username: 'hub', password: 'secret' });
    expect(await removeCredentials(location, 'localhost:5000')).toEqual(['localhost:5000']);
    expect(await lookupCredentials(location, 'localhost:5000')).toBeUndefined();
    expect(await removeCredentials(location, 'docker.io')).toEqual([]);
    expect(await removeCredentials(location, undefined)).toEqual(['registry.example']);
  });

  it('refuses damaged files and bad server names with messages that say what to do', async () => {
    const directory = temporary();
    const file = path.join(directory, 'auth.json');
    fs.writeFileSync(file, '{not json');
    await expect(lookupCredentials({ writable: file, readable: [file] }, 'x.example')).rejects.toBeInstanceOf(
      CorruptStateError,
    );
    expect(() => normalizeServer('')).toThrow(InvalidArgumentError);
    expect(() => normalizeServer('bad host')).toThrow('is not a registry host[:port]');
    expect(normalizeServer('registry-1.docker.io')).toBe('docker.io');
  });
});

describe('flags and names', () => {
  it('parses --platform and export formats', () => {
    expect(parsePlatform('linux/arm64/v8')).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(parsePlatform('linux/amd64')).toEqual({ os: 'linux', architecture: 'amd64', variant: undefined });
    expect(() => parsePlatform('amd64')).toThrow('invalid platform "amd64"');
    expect(parseExportFormat('oci-archive')).toBe('oci-archive');
    expect(parseExportFormat('oci-dir')).toBe('oci');
    expect(() => parseExportFormat('tar.gz')).toThrow(InvalidArgumentError);
  });

  it('treats only loopback registries as allowed to fall back to plain HTTP', () => {
    expect(isLoopbackRegistry('localhost:5000')).toBe(true);
    expect(isLoopbackRegistry('127.0.0.1:36000')).toBe(true);
    expect(isLoopbackRegistry('[::1]:5000')).toBe(true);
    expect(isLoopbackRegistry('registry.example:5000')).toBe(false);
    expect(isLoopbackRegistry('10.0.0.1')).toBe(false);
  });
});

describe('zstd layers', () => {
  it('detects and decodes a zstd stream in chunks', async () => {
    expect(detectCompression(ZSTD_FRAME, 'test')).toBe('zstd');
    const chunks: Buffer[] = [];
    const output = new PassThrough();
    output.on('data', (chunk: Buffer) => chunks.push(chunk));
    const pieces = Array.from({ length: ZSTD_FRAME.length }, (_, index) =>
      ZSTD_FRAME.subarray(index, index + 1),
    );
    await pipeline(Readable.from(pieces), createZstdDecompressor('layer'), output);
    expect(Buffer.concat(chunks).toString()).toBe('hello zstd layer\n'.repeat(20));
  });

  it('reports a truncated stream as a corrupt layer', async () => {
    const error = await pipeline(
      Readable.from([ZSTD_FRAME.subarray(0, 20)]),
      createZstdDecompressor('layer 1'),
      new PassThrough().resume(),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ImageFormatError);
    expect((error as Error).message).toBe(
      'layer 1: corrupt or truncated zstd stream (unexpected end of data)',
    );
  });
});

describe('mapLimit', () => {
  it('runs at most `limit` tasks at once and keeps the order of results', async () => {
    let running = 0;
    let peak = 0;
    const results = await mapLimit([5, 1, 4, 2, 3], 2, async (value) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, value));
      running -= 1;
      return value * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });

  it('stops starting tasks after a failure and throws it', async () => {
    const started: number[] = [];
    await expect(
      mapLimit([1, 2, 3, 4], 1, async (value) => {
        started.push(value);
        if (value === 2) throw new Error('boom');
        return value;
      }),
    ).rejects.toThrow('boom');
    expect(started).toEqual([1, 2]);
  });
});

describe('transfer progress', () => {
  function capture(tty: boolean): {
    stream: PassThrough & { isTTY?: boolean; columns?: number };
    text: () => string;
  } {
    const stream = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
    stream.isTTY = tty;
    stream.columns = 120;
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    return { stream, text: () => chunks.join('') };
  }
  const digest = `sha256:${'ab'.repeat(32)}`;

  it('prints one plain line per change of state when not on a terminal', () => {
    const { stream, text } = capture(false);
    const progress = new TransferProgress(stream, 'pull');
    progress.handle({ type: 'resolved', reference: 'r/x:1', digest, mediaType: 'm' });
    progress.handle({ type: 'blob', kind: 'layer', digest, phase: 'waiting', current: 0, total: 100 });
    for (const current of [10, 50, 90])
      progress.handle({ type: 'blob', kind: 'layer', digest, phase: 'transferring', current, total: 100 });
    progress.handle({ type: 'blob', kind: 'layer', digest, phase: 'done', current: 100, total: 100 });
    progress.handle({ type: 'storing' });
    progress.handle({ type: 'blob', kind: 'layer', digest, phase: 'extracting', current: 100, total: 100 });
    progress.handle({ type: 'blob', kind: 'layer', digest, phase: 'complete', current: 100, total: 100 });
    progress.close();
    // docker's per-layer words, in docker's order.
    expect(text()).toBe(
      'Pulling from r/x:1\nabababababab: Pulling fs layer\nabababababab: Downloading\nabababababab: Verifying Checksum\n' +
        'abababababab: Download complete\nStoring image (verifying and unpacking layers)\n' +
        'abababababab: Extracting\nabababababab: Pull complete\n',
    );
  });

  it('draws a bar per blob and redraws in place on a terminal', () => {
    const { stream, text } = capture(true);
    const progress = new TransferProgress(stream, 'push');
    progress.handle({ type: 'blob', kind: 'layer', digest, phase: 'waiting', current: 0, total: 1000 });
    progress.handle({ type: 'blob', kind: 'layer', digest, phase: 'done', current: 1000, total: 1000 });
    progress.close();
    expect(text()).toContain('abababababab: Waiting');
    expect(text()).toContain('\x1b[1A\x1b[2Kabababababab: Pushed');
    const bar = new TransferProgress(capture(true).stream, 'pull');
    const line = (bar as unknown as { render(line: object): string }).render({
      id: 'x',
      kind: 'layer',
      status: 'Downloading',
      current: 500,
      total: 1000,
      active: true,
    });
    expect(line).toContain('[===================>                    ] 500B/1kB');
    bar.close();
  });
});

describe('the pull cache after a killed pull', () => {
  it('removes downloads and locks nobody holds, and keeps the one a pull under way holds', async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-pull-cache-'));
    try {
      // a: a whole download with a stale lock file; b: a partial one; c: held by a pull.
      for (const name of ['a', 'a.lock', 'b.partial', 'c.partial'])
        fs.writeFileSync(path.join(cache, name), 'bytes');
      const held = await acquireBlobLock(path.join(cache, 'c'));
      try {
        expect(await sweepPullCache(cache)).toBe(2);
        expect(fs.readdirSync(cache).sort()).toEqual(['c.lock', 'c.partial']);
      } finally {
        held.release();
      }
      expect(fs.readdirSync(cache)).toEqual(['c.partial']);
      expect(await sweepPullCache(cache)).toBe(1);
      expect(fs.readdirSync(cache)).toEqual([]);
      expect(await sweepPullCache(path.join(cache, 'missing'))).toBe(0);
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });
});
