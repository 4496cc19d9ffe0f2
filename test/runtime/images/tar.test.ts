import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageFormatError } from '../../../source/runtime/errors.js';
import { TarFileIndex } from '../../../source/runtime/images/tar/file-index.js';
import { readTar, type TarEntry } from '../../../source/runtime/images/tar/reader.js';
import { encodeTarHeader, TarWriter } from '../../../source/runtime/images/tar/writer.js';
import type { TarHeader } from '../../../source/runtime/images/tar/header.js';
import { tarBuffer, type CraftedEntry } from './support.js';

/** Feeds `data` in chunks of `size` bytes, to exercise headers split across chunks. */
async function* chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
}

async function readAll(data: Buffer, chunkSize = 4096): Promise<Array<{ header: TarHeader; body: Buffer }>> {
  const result: Array<{ header: TarHeader; body: Buffer }> = [];
  for await (const entry of readTar(chunked(data, chunkSize))) {
    const parts: Buffer[] = [];
    for await (const chunk of entry.body()) parts.push(chunk);
    result.push({ header: entry.header, body: Buffer.concat(parts) });
  }
  return result;
}

const longName = `${'deep/'.repeat(40)}file-with-a-long-name.txt`;
const longTarget = `/${'target/'.repeat(20)}end`;

const sample: CraftedEntry[] = [
  { entry: { path: 'etc', type: 'directory', mode: 0o755, mtime: 1_700_000_000 } },
  {
    entry: {
      path: 'etc/hello',
      type: 'file',
      mode: 0o640,
      uid: 1000,
      gid: 100,
      uname: 'me',
      gname: 'users',
      mtime: 1_700_000_001,
    },
    body: Buffer.from('hello\n'),
  },
  { entry: { path: 'etc/empty', type: 'file' }, body: Buffer.alloc(0) },
  { entry: { path: 'etc/block-sized', type: 'file' }, body: Buffer.alloc(1024, 7) },
  { entry: { path: 'etc/link', type: 'symlink', linkPath: 'hello' } },
  { entry: { path: 'etc/hard', type: 'hardlink', linkPath: 'etc/hello' } },
  { entry: { path: 'dev/null', type: 'char', mode: 0o666, devMajor: 1, devMinor: 3 } },
  { entry: { path: 'dev/loop0', type: 'block', mode: 0o660, devMajor: 7, devMinor: 0 } },
  { entry: { path: 'run/fifo', type: 'fifo', mode: 0o600 } },
  {
    entry: {
      path: 'bin/ping',
      type: 'file',
      mode: 0o4755,
      xattrs: { 'security.capability': Buffer.from([1, 0, 0, 2, 0, 32, 0, 0]), 'user.note': 'ünïcode' },
    },
    body: Buffer.from('#!/bin/sh\n'),
  },
  { entry: { path: longName, type: 'file', mtime: 1.5 }, body: Buffer.from('long') },
  { entry: { path: 'links/long', type: 'symlink', linkPath: longTarget } },
  {
    entry: { path: 'ünïcode/名前', type: 'file', uid: 3_000_000, gid: 4_000_000, mtime: -10 },
    body: Buffer.from('x'),
  },
];

describe('tar writer and reader', () => {
  it('round-trips every entry type, long names, pax records and xattrs', async () => {
    const data = await tarBuffer(sample);
    expect(data.length % 512).toBe(0);
    for (const chunkSize of [1, 7, 512, 100_000]) {
      const entries = await readAll(data, chunkSize);
      expect(entries.map((entry) => entry.header.path)).toEqual(
        sample.map(({ entry }) => (entry.type === 'directory' ? `${entry.path}/` : entry.path)),
      );
      const byPath = new Map(entries.map((entry) => [entry.header.path.replace(/\/$/, ''), entry]));
      const hello = byPath.get('etc/hello');
      expect(hello?.body.toString()).toBe('hello\n');
      expect(hello?.header).toMatchObject({
        type: 'file',
        mode: 0o640,
        uid: 1000,
        gid: 100,
        uname: 'me',
        gname: 'users',
        mtime: 1_700_000_001,
        size: 6,
      });
      expect(byPath.get('etc/block-sized')?.body).toEqual(Buffer.alloc(1024, 7));
      expect(byPath.get('etc/link')?.header).toMatchObject({ type: 'symlink', linkPath: 'hello', size: 0 });
      expect(byPath.get('etc/hard')?.header).toMatchObject({ type: 'hardlink', linkPath: 'etc/hello' });
      expect(byPath.get('dev/null')?.header).toMatchObject({
        type: 'char',
        devMajor: 1,
        devMinor: 3,
        mode: 0o666,
      });
      expect(byPath.get('dev/loop0')?.header).toMatchObject({ type: 'block', devMajor: 7, devMinor: 0 });
      expect(byPath.get('run/fifo')?.header.type).toBe('fifo');
      const ping = byPath.get('bin/ping')?.header;
      expect(ping?.mode).toBe(0o4755);
      expect(ping?.xattrs.get('security.capability')).toEqual(Buffer.from([1, 0, 0, 2, 0, 32, 0, 0]));
      expect(ping?.xattrs.get('user.note')?.toString()).toBe('ünïcode');
      expect(byPath.get(longName)?.body.toString()).toBe('long');
      expect(byPath.get(longName)?.header.mtime).toBe(1.5);
      expect(byPath.get('links/long')?.header.linkPath).toBe(longTarget);
      expect(byPath.get('ünïcode/名前')?.header).toMatchObject({
        uid: 3_000_000,
        gid: 4_000_000,
        mtime: -10,
      });
    }
  });

  it('writes the same bytes for the same input', async () => {
    expect((await tarBuffer(sample)).equals(await tarBuffer(sample))).toBe(true);
  });

  it('lets the consumer skip bodies', async () => {
    const data = await tarBuffer(sample);
    const paths: string[] = [];
    for await (const entry of readTar(chunked(data, 333))) paths.push(entry.header.path);
    expect(paths).toHaveLength(sample.length);
  });

  it('refuses a body whose length differs from the declared size', async () => {
    const writer = new TarWriter(new PassThrough());
    await expect(
      writer.add({ path: 'f', type: 'file', size: 10 }, chunked(Buffer.alloc(4), 2)),
    ).rejects.toThrow(/4 bytes, the header says 10/);
  });

  describe('interoperability with GNU tar', () => {
    let directory: string;
    beforeAll(() => {
      directory = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-test-tar-'));
    });
    afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

    it('GNU tar lists what the writer wrote', async () => {
      const file = path.join(directory, 'ours.tar');
      fs.writeFileSync(file, await tarBuffer(sample));
      const listing = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n');
      expect(listing).toContain(longName);
      expect(listing).toContain('ünïcode/名前');
    });

    it('reads GNU long names and links (L/K entries) written by GNU tar', async () => {
      const tree = path.join(directory, 'tree');
      const deep = path.join(
        tree,
        ...'x'
          .repeat(30)
          .split('')
          .map((_, i) => `directory-${i}`),
      );
      fs.mkdirSync(deep, { recursive: true });
      fs.writeFileSync(path.join(deep, 'file'), 'gnu');
      fs.symlinkSync(path.join(deep, 'file'), path.join(tree, 'link'));
      const file = path.join(directory, 'gnu.tar');
      execFileSync('tar', ['--format=gnu', '-cf', file, '-C', tree, '.']);
      const entries = await readAll(fs.readFileSync(file), 1000);
      const longFile = entries.find((entry) => entry.header.path.endsWith('directory-29/file'));
      expect(longFile?.body.toString()).toBe('gnu');
      expect(longFile?.header.path.length).toBeGreaterThan(100);
      const link = entries.find((entry) => entry.header.path === './link');
      expect(link?.header.linkPath).toBe(path.join(deep, 'file'));
      expect(link?.header.linkPath.length).toBeGreaterThan(100);
    });

    it('indexes a file for random access, following links inside the archive', async () => {
      const file = path.join(directory, 'index.tar');
      fs.writeFileSync(
        file,
        await tarBuffer([
          { entry: { path: 'a/layer.tar', type: 'file' }, body: Buffer.from('layer-bytes') },
          { entry: { path: 'b/layer.tar', type: 'symlink', linkPath: '../a/layer.tar' } },
          { entry: { path: 'c/layer.tar', type: 'hardlink', linkPath: 'a/layer.tar' } },
          { entry: { path: 'escape', type: 'symlink', linkPath: '../../etc/passwd' } },
          { entry: { path: longName, type: 'file' }, body: Buffer.from('long') },
        ]),
      );
      const index = await TarFileIndex.open(file);
      for (const name of ['a/layer.tar', './b/layer.tar', 'c/layer.tar']) {
        const entry = index.resolve(name);
        expect(entry?.path).toBe('a/layer.tar');
        expect((await index.readFile(entry!, 100)).toString()).toBe('layer-bytes');
      }
      expect(index.resolve('escape')).toBeUndefined();
      expect((await index.readFile(index.resolve(longName)!, 100)).toString()).toBe('long');
    });
  });
});

describe('tar reader errors', () => {
  it('reports a truncated body', async () => {
    const data = await tarBuffer([{ entry: { path: 'big', type: 'file' }, body: Buffer.alloc(5000, 1) }]);
    const cut = data.subarray(0, 512 + 3000);
    await expect(readAll(cut)).rejects.toThrow(ImageFormatError);
    await expect(readAll(cut)).rejects.toThrow(/truncated tar.*"big"/);
  });

  it('reports a truncated header', async () => {
    const data = await tarBuffer(sample);
    await expect(readAll(data.subarray(0, 512 + 100))).rejects.toThrow(/truncated/);
  });

  it('reports a truncated extended header', async () => {
    // A final component over 100 bytes cannot be split into ustar prefix and name: pax it is.
    const data = await tarBuffer([
      { entry: { path: `dir/${'n'.repeat(150)}`, type: 'file' }, body: Buffer.from('x') },
    ]);
    await expect(readAll(data.subarray(0, 600))).rejects.toThrow(/truncated tar.*extended header/);
  });

  it('reports a truncated archive file when indexing', async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-test-tar-'));
    try {
      const file = path.join(directory, 'cut.tar');
      const data = await tarBuffer([{ entry: { path: 'blob', type: 'file' }, body: Buffer.alloc(4000, 1) }]);
      fs.writeFileSync(file, data.subarray(0, 2048));
      await expect(TarFileIndex.open(file)).rejects.toThrow(/truncated tar archive .* "blob"/);
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });

  it('reports a damaged header', async () => {
    const data = Buffer.from(await tarBuffer(sample));
    data[20] = (data[20] as number) ^ 0xff;
    await expect(readAll(data)).rejects.toThrow(/bad header checksum at byte 0/);
  });

  it('refuses GNU sparse files', async () => {
    const header = Buffer.from(encodeTarHeader({ path: 'sparse', type: 'file' }));
    header[156] = 'S'.charCodeAt(0);
    header.fill(0x20, 148, 156);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
    await expect(readAll(Buffer.concat([header, Buffer.alloc(1024)]))).rejects.toThrow(
      /GNU sparse files are not supported/,
    );
  });

  it('accepts an archive that ends at a header boundary without end blocks', async () => {
    const data = await tarBuffer([{ entry: { path: 'f', type: 'file' }, body: Buffer.from('x') }]);
    const entries = await readAll(data.subarray(0, 1024));
    expect(entries.map((entry) => entry.header.path)).toEqual(['f']);
  });

  it('reads base-256 numbers (GNU) for big sizes and ids', async () => {
    const header = Buffer.from(encodeTarHeader({ path: 'f', type: 'file', size: 3 }));
    // uid 2^40 in base-256
    header.fill(0, 108, 116);
    header[108] = 0x80;
    header.writeUIntBE(2 ** 40, 110, 6);
    header.fill(0x20, 148, 156);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
    const data = Buffer.concat([header, Buffer.from('abc'), Buffer.alloc(509), Buffer.alloc(1024)]);
    const entries: TarEntry[] = [];
    for await (const entry of readTar(chunked(data, 512))) entries.push(entry);
    expect(entries[0]?.header.uid).toBe(2 ** 40);
  });
});
