/**
 * The log reader on real files: whole logs, tails and older pages across rotated files, partial
 * records, follow across rotations and cuts, and what a tail of a large log reads (counted by the
 * kernel in /proc/self/io).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  parseSince,
  readLogs,
  readOlderLogs,
  type LogCursor,
  type LogEntry,
  type LogOptions,
} from '../../../source/runtime/containers/logs.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-unit-logs-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let dirCount = 0;
function freshDir(): string {
  const made = path.join(dir, String(dirCount++));
  fs.mkdirSync(made);
  return made;
}

async function collect(file: string, options: LogOptions = {}): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  for await (const entry of readLogs(file, options)) entries.push(entry);
  return entries;
}

interface Rec {
  stream: 'stdout' | 'stderr';
  tag: 'F' | 'P';
  text: string;
}

function recordLine(record: Rec, second: number): string {
  const time = new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString().replace('Z', '000000Z');
  return `${time} ${record.stream} ${record.tag} ${record.text}\n`;
}

/** What the records mean, by the format's rules, read the simple way. */
function expected(records: Rec[], final = true): Omit<LogEntry, 'time'>[] {
  const out: Omit<LogEntry, 'time'>[] = [];
  let pending: Omit<LogEntry, 'time'> | undefined;
  for (const record of records) {
    if (pending && pending.stream !== record.stream) {
      out.push(pending);
      pending = undefined;
    }
    pending ??= { stream: record.stream, text: '' };
    pending.text += record.text;
    if (record.tag === 'F') {
      pending.text += '\n';
      out.push(pending);
      pending = undefined;
    }
  }
  if (pending && final) out.push(pending);
  return out;
}

const plain = (entries: LogEntry[]) => entries.map(({ stream, text }) => ({ stream, text }));

/**
 * Writes records as the monitor does, rotating by size: NAME.1 is the newest rotated file, at
 * most `files` files are kept; returns the records that are still on disk.
 */
function writeRotated(file: string, records: Rec[], maxSize: number, files: number): Rec[] {
  let size = 0;
  let kept: Rec[][] = [[]];
  records.forEach((record, index) => {
    const line = recordLine(record, index);
    if (size + line.length > maxSize && size > 0) {
      for (let n = files - 1; n >= 2; n--) {
        if (fs.existsSync(`${file}.${n - 1}`)) fs.renameSync(`${file}.${n - 1}`, `${file}.${n}`);
      }
      fs.rmSync(`${file}.1`, { force: true });
      fs.linkSync(file, `${file}.1`);
      fs.writeFileSync(`${file}.new`, '');
      fs.renameSync(`${file}.new`, file);
      size = 0;
      kept = [[], ...kept].slice(0, files);
    }
    fs.appendFileSync(file, line);
    size += line.length;
    kept[0]!.push(record);
  });
  return kept.reverse().flat();
}

/** A pseudo-random but repeatable sequence (mulberry32). */
function random(seed: number) {
  let state = seed;
  return (below: number) => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below);
  };
}

function randomRecords(count: number, seed: number): Rec[] {
  const next = random(seed);
  const words = [
    'alpha',
    'beta',
    'ünïcødé',
    '日本語',
    'x'.repeat(300),
    '',
    'tab\there',
    '\u001b[31mred\u001b[0m',
  ];
  return Array.from({ length: count }, () => ({
    stream: next(5) === 0 ? 'stderr' : 'stdout',
    tag: next(4) === 0 ? 'P' : 'F',
    text: words[next(words.length)]!,
  }));
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
    expect((await collect(file, { tail: 0 })).map((e) => e.text)).toEqual([]);
    expect((await collect(file, { tail: 100 })).map((e) => e.text)).toHaveLength(4);
    expect(
      (
        await collect(file, {
          since: new Date('2026-01-01T00:00:02Z'),
          until: new Date('2026-01-01T00:00:03.2Z'),
        })
      ).map((e) => e.text),
    ).toEqual(['oops\n', 'partial\n']);
    expect(
      (await collect(file, { tail: 1, until: new Date('2026-01-01T00:00:02Z') })).map((e) => e.text),
    ).toEqual(['oops\n']);
    expect(
      (await collect(file, { tail: 5, since: new Date('2026-01-01T00:00:02Z') })).map((e) => e.text),
    ).toEqual(['oops\n', 'partial\n', 'no newline at the end']);
  });

  it('parses relative and absolute times for --since', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(parseSince('10m', now).toISOString()).toBe('2026-01-01T11:50:00.000Z');
    expect(parseSince('1h30m', now).toISOString()).toBe('2026-01-01T10:30:00.000Z');
    expect(parseSince('2026-01-01T00:00:00Z').toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(parseSince('1767225600').toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(() => parseSince('yesterday')).toThrow(/give a duration like 10m/);
  });

  it('reads a whole log and any tail of it across rotated files, as the records say', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const logDir = freshDir();
      const log = path.join(logDir, 'ctr.log');
      const kept = writeRotated(log, randomRecords(600, seed), 4096, 4);
      expect(fs.existsSync(`${log}.3`)).toBe(true);
      expect(fs.existsSync(`${log}.4`)).toBe(false);
      // The first file on disk may begin inside a partial line whose start was rotated away.
      const all = expected(kept);
      expect(plain(await collect(log))).toEqual(all);
      for (const tail of [0, 1, 2, 7, 50, 120, 199, all.length - 1, all.length, all.length + 5]) {
        expect(plain(await collect(log, { tail })), `seed ${seed} tail ${tail}`).toEqual(
          tail === 0 ? [] : all.slice(-tail),
        );
      }
    }
  });

  it('pages back from a tail to the first line kept, older pages before newer', async () => {
    const logDir = freshDir();
    const log = path.join(logDir, 'ctr.log');
    const all = expected(writeRotated(log, randomRecords(500, 9), 4096, 5));
    let cursor: LogCursor | undefined;
    const tail = await collect(log, { tail: 30, onStart: (older) => (cursor = older) });
    const pages = [plain(tail)];
    let guard = 0;
    while (cursor && guard++ < 100) {
      const older = await readOlderLogs(log, cursor, 40);
      pages.unshift(plain(older.entries));
      cursor = older.olderBefore;
    }
    expect(cursor).toBeUndefined();
    expect(pages.length).toBeGreaterThan(3);
    expect(pages.flat()).toEqual(all);
    expect(pages.slice(1, -1).every((page) => page.length >= 40)).toBe(true);
  });

  it('gives each entry its cursor on request: the page before it is what came before it', async () => {
    const logDir = freshDir();
    const log = path.join(logDir, 'ctr.log');
    writeRotated(log, randomRecords(400, 11), 4096, 4);
    const all = await collect(log, { positions: true });
    expect(all.every((entry) => entry.cursor !== undefined)).toBe(true);
    for (const at of [1, 5, 17, 60, all.length - 1]) {
      const older = await readOlderLogs(log, all[at]!.cursor!, 12);
      expect(plain(older.entries), `before entry ${at}`).toEqual(plain(all.slice(Math.max(0, at - 12), at)));
      expect(older.entries.map((entry) => entry.cursor)).toEqual(
        all.slice(Math.max(0, at - 12), at).map((entry) => entry.cursor),
      );
    }
    // The same positions come with a tail and with followed output.
    const tail = await collect(log, { tail: 20, positions: true });
    expect(tail.map((entry) => entry.cursor)).toEqual(all.slice(-20).map((entry) => entry.cursor));
  });

  it('says there is nothing older when the tail starts at the beginning', async () => {
    let told: LogCursor | undefined | 'not told' = 'not told';
    await collect(file, { tail: 100, onStart: (older) => (told = older) });
    expect(told).toBeUndefined();
    told = 'not told';
    await collect(file, { tail: 1, onStart: (older) => (told = older) });
    expect(told).toMatchObject({ offset: expect.any(Number) });
  });

  it('keeps characters whole across reads and partial records', async () => {
    const logDir = freshDir();
    const log = path.join(logDir, 'ctr.log');
    const wide = '€'.repeat(40_000); // 120,000 bytes: crosses the 64 KiB read blocks
    const bytes = Buffer.from(wide);
    // A partial record cut inside a character, as the monitor cuts by bytes.
    const cut = 100_001;
    fs.writeFileSync(
      log,
      Buffer.concat([
        Buffer.from('2026-01-01T00:00:01.000000000Z stdout P '),
        bytes.subarray(0, cut),
        Buffer.from('\n2026-01-01T00:00:01.000000000Z stdout F '),
        bytes.subarray(cut),
        Buffer.from('\n'),
      ]),
    );
    expect((await collect(log)).map((e) => e.text)).toEqual([`${wide}\n`]);
    expect((await collect(log, { tail: 1 })).map((e) => e.text)).toEqual([`${wide}\n`]);
  });

  it('follows across rotations and a cut, losing nothing the rotation kept', async () => {
    const logDir = freshDir();
    const log = path.join(logDir, 'ctr.log');
    fs.writeFileSync(log, '');
    const records = Array.from({ length: 400 }, (_, i): Rec => ({
      stream: 'stdout',
      tag: 'F',
      text: `line ${i}`,
    }));
    let finished = false;
    const seen: string[] = [];
    const reader = (async () => {
      for await (const entry of readLogs(log, { follow: true, isDone: async () => finished }))
        seen.push(entry.text);
    })();
    // Batches of 50 records (about 2.3 KB) into files of 2 KB, 3 kept: each batch rotates, and the
    // writer waits for the reader before the next batch so nothing is rotated away unread.
    for (let batch = 0; batch < 8; batch++) {
      const slice = records.slice(batch * 50, batch * 50 + 50);
      let size = fs.statSync(log).size;
      for (const [offset, record] of slice.entries()) {
        const line = recordLine(record, batch * 50 + offset);
        if (size + line.length > 2048) {
          if (fs.existsSync(`${log}.1`)) fs.renameSync(`${log}.1`, `${log}.2`);
          fs.linkSync(log, `${log}.1`);
          fs.writeFileSync(`${log}.new`, '');
          fs.renameSync(`${log}.new`, log);
          size = 0;
        }
        fs.appendFileSync(log, line);
        size += line.length;
      }
      await waitUntil(() => seen.length === (batch + 1) * 50);
    }
    // A log of one file is cut back to nothing instead: the follower starts it again.
    fs.truncateSync(log, 0);
    fs.appendFileSync(log, recordLine({ stream: 'stdout', tag: 'F', text: 'after the cut' }, 999));
    await waitUntil(() => seen.includes('after the cut\n'));
    finished = true;
    await reader;
    expect(seen).toEqual([...records.map((r) => `${r.text}\n`), 'after the cut\n']);
  });

  it('stops following at once when aborted', async () => {
    const logDir = freshDir();
    const log = path.join(logDir, 'ctr.log');
    fs.writeFileSync(log, recordLine({ stream: 'stdout', tag: 'F', text: 'hello' }, 1));
    const controller = new AbortController();
    const seen: string[] = [];
    const reader = (async () => {
      for await (const entry of readLogs(log, { follow: true, signal: controller.signal }))
        seen.push(entry.text);
    })();
    await waitUntil(() => seen.length === 1);
    controller.abort();
    await reader;
    expect(seen).toEqual(['hello\n']);
  });

  it('reads only the end of a large log for a tail (bytes counted by the kernel)', async () => {
    const logDir = freshDir();
    const log = path.join(logDir, 'ctr.log');
    // 256 MiB of real records, written sparsely: a hole of zeros would not be a log, so the file
    // is records at its start and end around a hole the reader must never cross for a tail.
    const head = Buffer.from(recordLine({ stream: 'stdout', tag: 'F', text: 'first' }, 0).repeat(1000));
    fs.writeFileSync(log, head);
    const tailLines = Array.from({ length: 2000 }, (_, i) =>
      recordLine({ stream: 'stdout', tag: 'F', text: `near the end ${i}` }, 10),
    ).join('');
    fs.truncateSync(log, 256 * 1024 * 1024);
    fs.appendFileSync(log, `\n${tailLines}`);
    const before = readCharCount();
    const entries = await collect(log, { tail: 10 });
    const read = readCharCount() - before;
    expect(entries.map((e) => e.text)).toEqual(
      Array.from({ length: 10 }, (_, i) => `near the end ${1990 + i}\n`),
    );
    // Two passes over one 64 KiB block and the walk back over one: far below the file's size.
    expect(read).toBeLessThan(1024 * 1024);
  });
});

/** Bytes this process read through read(2) and friends, as the kernel counts them. */
function readCharCount(): number {
  const io = fs.readFileSync('/proc/self/io', 'utf8');
  return Number(/^rchar: (\d+)$/m.exec(io)![1]);
}

async function waitUntil(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
