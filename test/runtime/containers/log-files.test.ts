/**
 * The set of a log's files while the monitor rotates it: rotations that land between the
 * reader's opens of NAME, NAME.1, NAME.2... (made to land there by running them from inside the
 * reader's own open) never give a newer file under an older name, nor skip one still kept.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { LogFileSet } from '../../../source/runtime/containers/log-files.js';

/** The monitor's rotation (logfile.c): shift NAME.k up, link NAME as NAME.1, rename a new file over NAME. */
function rotate(file: string, maxFiles: number, content: string): void {
  for (let n = maxFiles - 1; n >= 2; n--) {
    if (fs.existsSync(`${file}.${n - 1}`)) fs.renameSync(`${file}.${n - 1}`, `${file}.${n}`);
  }
  fs.rmSync(`${file}.1`, { force: true });
  fs.linkSync(file, `${file}.1`);
  fs.writeFileSync(`${file}.new`, content);
  fs.renameSync(`${file}.new`, file);
}

async function contents(files: LogFileSet): Promise<string[]> {
  const all = await files.all();
  return Promise.all(all.map(async (file) => (await file.handle.readFile('utf8')).trim()));
}

describe('log file set', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-unit-log-files-'));
  afterEach(() => vi.restoreAllMocks());
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('lists the files older than the current one in order when two rotations land mid-listing', async () => {
    const file = path.join(dir, 'two-rotations.log');
    fs.writeFileSync(file, 'file 1');
    rotate(file, 4, 'file 2');
    rotate(file, 4, 'file 3');
    const files = new LogFileSet(file);
    expect((await files.get(0))!.handle).toBeDefined();
    const open = fsp.open.bind(fsp);
    let rotated = false;
    vi.spyOn(fsp, 'open').mockImplementation(async (name, ...rest) => {
      if (!rotated && String(name).endsWith('.log.1')) {
        rotated = true;
        rotate(file, 4, 'file 4');
        rotate(file, 4, 'file 5');
      }
      return open(name, ...rest);
    });
    // The set is anchored on file 3 (the current one when it was opened): older are 2 and 1,
    // though file 1 was rotated away by the second rotation; file 4 is newer and never listed.
    expect(rotated).toBe(false);
    const listed = await contents(files);
    expect(rotated).toBe(true);
    expect(listed).toEqual(['file 3', 'file 2']);
    await files.close();
  });

  it('lists a file once while NAME and NAME.1 are one file, half-way through a rotation', async () => {
    const file = path.join(dir, 'half-way.log');
    fs.writeFileSync(file, 'file 1');
    rotate(file, 3, 'file 2');
    // The monitor's next rotation, stopped after the link: NAME and NAME.1 are both file 2.
    fs.renameSync(`${file}.1`, `${file}.2`);
    fs.linkSync(file, `${file}.1`);
    const files = new LogFileSet(file);
    expect(await contents(files)).toEqual(['file 2', 'file 1']);
    await files.close();
  });
});
