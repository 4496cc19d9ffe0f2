/**
 * spoolStream, the one way stdin consumers (load, image import -, build -) keep a stream on disk:
 * in a private work directory under the state root's tmp/, gone when the copy fails (the sweep
 * after SIGKILL is in test/cli/save-load.int.test.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { spoolStream, WorkDirectory } from '../../../source/runtime/images/work-directory.js';
import { StateLayout } from '../../../source/runtime/paths.js';

let root: string;
let layout: StateLayout;
const create = (kind: string) => WorkDirectory.create(layout, kind);

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-spool-'));
  layout = new StateLayout(root);
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

it('copies the stream into a private file under tmp/ that dispose removes', async () => {
  const spool = await spoolStream(
    create,
    'stdin',
    Readable.from([Buffer.from('abc'), Buffer.from('def')]),
    'in.tar',
  );
  expect(path.dirname(path.dirname(spool.file))).toBe(layout.tmp);
  expect(fs.readFileSync(spool.file, 'utf8')).toBe('abcdef');
  expect(fs.statSync(spool.file).mode & 0o777).toBe(0o600);
  await spool.work.dispose();
  expect(fs.readdirSync(layout.tmp)).toEqual([]);
});

it('removes the work directory when the stream fails half way', async () => {
  async function* broken(): AsyncGenerator<Buffer> {
    yield Buffer.from('half an archive');
    throw new Error('the writer went away');
  }
  await expect(spoolStream(create, 'stdin', Readable.from(broken()), 'in.tar')).rejects.toThrow(
    'the writer went away',
  );
  expect(fs.readdirSync(layout.tmp)).toEqual([]);
});
