/**
 * The race behind `diff` and `commit --pause=false` of a running container, made deterministic:
 * the directory the walk is about to enter is swapped for a symlink to a host directory at the
 * exact moment between the walk seeing it and reading it (from inside the consumer of the walk,
 * as a container would from its side). Neither the change list nor the layer tar may then hold
 * anything of the host directory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeUpperLayer } from '../../../source/runtime/images/commit/upper-tar.js';
import { walkUpper } from '../../../source/runtime/images/diff/upper-walk.js';
import { readTar } from '../../../source/runtime/images/tar/reader.js';
import { TarWriter, type TarEntryInput } from '../../../source/runtime/images/tar/writer.js';

const MARKER = `host-secret-${process.pid}`;
let base: string;
let upper: string;
let host: string;

beforeEach(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-upper-race-'));
  upper = path.join(base, 'upper');
  host = path.join(base, 'host');
  fs.mkdirSync(path.join(upper, 'data', 'real'), { recursive: true });
  fs.writeFileSync(path.join(upper, 'data', 'real', 'file'), 'inside\n');
  fs.mkdirSync(host);
  fs.writeFileSync(path.join(host, 'file'), `${MARKER}\n`);
  fs.writeFileSync(path.join(host, `${MARKER}.txt`), `${MARKER}\n`);
});

afterEach(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

/** What the container does: the directory moves aside and a symlink to the host takes its place. */
function swapForHostLink(): void {
  fs.renameSync(path.join(upper, 'data', 'real'), path.join(upper, 'data', 'aside'));
  fs.symlinkSync(host, path.join(upper, 'data', 'real'));
}

describe('walking a writable layer that changes underneath', () => {
  it('diff: a directory swapped for a host symlink after it was seen is not entered', () => {
    const paths: string[] = [];
    let swapped = false;
    for (const event of walkUpper(upper, [])) {
      paths.push(event.path);
      if (event.type === 'directory' && event.path === '/data/real') {
        swapForHostLink();
        swapped = true;
      }
    }
    expect(swapped).toBe(true);
    // The walk read the directory it had opened (now at /data/aside), not the host's.
    expect(paths).toEqual(['/data', '/data/real', '/data/real/file']);
    expect(paths.join('\n')).not.toContain(MARKER);
  });

  it('commit: a file read after its directory was swapped comes from the container, never the host', async () => {
    const output = new PassThrough();
    const chunks: Buffer[] = [];
    output.on('data', (chunk: Buffer) => chunks.push(chunk));
    const writer = new TarWriter(output);
    const add = writer.add.bind(writer);
    let swapped = false;
    writer.add = async (entry: TarEntryInput, body?: Uint8Array | AsyncIterable<Uint8Array>) => {
      await add(entry, body);
      // The directory entry is written before the walk goes into it: the container strikes now.
      if (entry.type === 'directory' && entry.path === 'data/real') {
        swapForHostLink();
        swapped = true;
      }
    };
    await writeUpperLayer(writer, upper, []);
    await writer.finish();
    output.end();
    expect(swapped).toBe(true);
    const entries: Array<{ path: string; content: string }> = [];
    async function* source() {
      yield Buffer.concat(chunks);
    }
    for await (const entry of readTar(source())) {
      let content = '';
      for await (const chunk of entry.body()) content += chunk.toString();
      entries.push({ path: entry.header.path, content });
    }
    expect(entries.map((entry) => entry.path)).toEqual(['data/', 'data/real/', 'data/real/file']);
    expect(entries.find((entry) => entry.path === 'data/real/file')?.content).toBe('inside\n');
    expect(JSON.stringify(entries)).not.toContain(MARKER);
  });

  it('commit: a planted symlink to a host directory is written as a symlink, nothing behind it', async () => {
    fs.symlinkSync(host, path.join(upper, 'data', 'planted'));
    const output = new PassThrough();
    const chunks: Buffer[] = [];
    output.on('data', (chunk: Buffer) => chunks.push(chunk));
    const writer = new TarWriter(output);
    await writeUpperLayer(writer, upper, []);
    await writer.finish();
    output.end();
    const tar = Buffer.concat(chunks);
    expect(tar.includes(`${MARKER}\n`)).toBe(false);
    expect(tar.includes(`${MARKER}.txt`)).toBe(false);
    expect(tar.includes(host)).toBe(true); // the link target, as a symlink entry
  });
});
