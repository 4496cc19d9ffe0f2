// The journal's view of operations under way: the TUI keeps looking while one may still need
// recovering, including when its owner is killed between a recovery pass and the look after it.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../../source/runtime/journal.js';
import { StateLayout } from '../../source/runtime/paths.js';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) fs.rmSync(root, { recursive: true, force: true });
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('Journal.anyUnderWay', () => {
  it('counts an entry whose owner died after the recovery pass passed it over, not one that pass tried', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-journal-'));
    roots.push(root);
    const journal = new Journal(new StateLayout(root));
    fs.mkdirSync(path.join(root, 'journal'));
    // The owner: one process that makes its entry and holds its flock(2), as a gantry command
    // does while it works.
    const prefix = path.join(root, 'journal', `create.${'a'.repeat(64)}`);
    const owner = spawn('bash', ['-c', 'exec 9<>"$0.$$.1"; flock -x 9; exec sleep 1000', prefix]);
    const file = `${prefix}.${owner.pid}.1`;
    const name = path.basename(file);
    await until(() => fs.existsSync(file) && spawnSync('flock', ['-n', '-x', file, 'true']).status === 1);

    // A recovery pass while the owner lives passes the entry over (it tries nothing).
    const tried = new Set<string>();
    for await (const entry of journal.abandoned()) {
      tried.add(entry.name);
      entry.release();
    }
    expect(tried.size).toBe(0);
    expect(journal.anyUnderWay(tried)).toBe(true);

    // Killed before the look that follows the pass: no journal event will announce it.
    owner.kill('SIGKILL');
    await until(() => spawnSync('flock', ['-n', '-x', file, 'true']).status === 0);
    expect(journal.anyUnderWay(tried)).toBe(true);

    // The next pass tries it; should its recovery fail, nothing is under way any more.
    for await (const entry of journal.abandoned()) {
      tried.add(entry.name);
      entry.release();
    }
    expect([...tried]).toEqual([name]);
    expect(journal.anyUnderWay(tried)).toBe(false);
  });
});
