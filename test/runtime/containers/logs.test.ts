import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSince, readLogs, type LogEntry } from '../../../source/runtime/containers/logs.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-unit-logs-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function collect(file: string, options = {}): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  for await (const entry of readLogs(file, options)) entries.push(entry);
  return entries;
}

describe('CRI log reader', () => {
  const file = path.join(dir, 'ctr.log');
  fs.writeFileSync(
    file,
    [
      '2026-01-01T00:00:01.000000000Z stdout F one',
      '2026-01-01T00:00:02.000000000Z stderr F oops',
      '2026-01-01T00:00:03.000000000Z stdout P par',
      '2026-01-01T00:00:03.500000000Z stdout F tial',
      '2026-01-01T00:00:04.000000000Z stdout P no newline at the end',
      '',
    ].join('\n'),
  );

  it('joins partial records and keeps streams apart, byte for byte', async () => {
    const entries = await collect(file);
    expect(entries.map((e) => [e.stream, e.text])).toEqual([
      ['stdout', 'one\n'],
      ['stderr', 'oops\n'],
      ['stdout', 'partial\n'],
      ['stdout', 'no newline at the end'],
    ]);
  });

  it('tails, and filters by time', async () => {
    expect((await collect(file, { tail: 2 })).map((e) => e.text)).toEqual([
      'partial\n',
      'no newline at the end',
    ]);
    expect(
      (
        await collect(file, {
          since: new Date('2026-01-01T00:00:02Z'),
          until: new Date('2026-01-01T00:00:03.2Z'),
        })
      ).map((e) => e.text),
    ).toEqual(['oops\n', 'partial\n']);
  });

  it('parses relative and absolute times for --since', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(parseSince('10m', now).toISOString()).toBe('2026-01-01T11:50:00.000Z');
    expect(parseSince('1h30m', now).toISOString()).toBe('2026-01-01T10:30:00.000Z');
    expect(parseSince('2026-01-01T00:00:00Z').toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(parseSince('1767225600').toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(() => parseSince('yesterday')).toThrow(/give a duration like 10m/);
  });
});
