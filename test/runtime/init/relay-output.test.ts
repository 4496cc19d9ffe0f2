/**
 * The helper's relay pipes as the engine hands them on (a remote `start -a` or `exec`): a short
 * process's relay can end before the caller reads, and node drains and drops what an exited
 * child left in a pipe nobody read. A stand-in helper (GANTRY_HELPER) answers at once and exits,
 * so the output is read only after node's turn at the pipes, every time.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { afterAll, expect, it } from 'vitest';
import { attach } from '../../../source/runtime/init/helper.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-relay-output-'));
const fake = path.join(dir, 'gantry-init');
fs.writeFileSync(fake, '#!/bin/sh\necho attached >&3\necho out\necho err >&2\n', { mode: 0o755 });
process.env.GANTRY_HELPER = fake;
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What the stream still gives; an end that came before anyone read gives nothing. */
const read = async (stream: Readable | null | undefined): Promise<string> => {
  if (!stream) return '';
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  await finished(stream);
  return text;
};

it("keeps an attach relay's output that came before the caller read it, once the relay has exited", async () => {
  const handle = await attach(dir, 'attach.sock', { tty: false, stdin: false, pipes: true });
  // The relay has ended and node has had its turn at the pipes nobody read (the next tick).
  expect(await handle.exit).toBe(0);
  await new Promise((resolve) => setImmediate(resolve));
  expect(await Promise.all([read(handle.pipes?.stdout), read(handle.pipes?.stderr)])).toEqual([
    'out\n',
    'err\n',
  ]);
});
