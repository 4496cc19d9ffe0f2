/**
 * Paging back through a log over the remote protocol (version 2): a `logs` stream asked for
 * `start` says first where its tail begins, each entry carries its cursor, and `logs.older` reads
 * the page before a cursor with the same reader the local engine uses, on a real log file. A
 * client facing a protocol-1 service (a stand-in speaking only what version 1 did) still gets the
 * tail, and is told paging is not supported there. Real ssh: test/tui/remote-e2e.int.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLogs, readOlderLogs, type LogEntry } from '../../../source/runtime/containers/logs.js';
import { UnsupportedError } from '../../../source/runtime/errors.js';
import { RemoteEngine } from '../../../source/runtime/remote/client.js';
import type { HostEngine } from '../../../source/runtime/remote/host-engine.js';
import { parseSshUrl } from '../../../source/runtime/remote/ssh-url.js';
import { session } from './support/session.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-unit-remote-logs-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A log file of `count` lines "line N" in the monitor's format. */
function writeLog(name: string, count: number): string {
  const file = path.join(dir, name);
  const lines = Array.from(
    { length: count },
    (_, index) =>
      `2026-01-01T00:00:${String(index % 60).padStart(2, '0')}.000000000Z stdout F line ${index}\n`,
  );
  fs.writeFileSync(file, lines.join(''));
  return file;
}

/** A HostEngine whose logs are one real file, read as the local engine reads a container's. */
function fileEngine(file: string): HostEngine {
  return {
    host: 'local',
    logs: (_reference: string, options = {}) => readLogs(file, options),
    olderLogs: (_reference: string, cursor, count, signal) => readOlderLogs(file, cursor, count, signal),
  } as Pick<HostEngine, 'host' | 'logs' | 'olderLogs'> as HostEngine;
}

const texts = (entries: LogEntry[]) => entries.map((entry) => entry.text.trim());

describe('logs paging over the protocol', () => {
  it('sends where the tail begins first, cursors with entries, and the pages before them', async () => {
    const s = session(fileEngine(writeLog('twelve.log', 12)));
    s.send({
      id: 1,
      method: 'logs',
      params: { reference: 'c', options: { tail: 5, start: true, positions: true } },
    });
    await s.until(() => s.of(1).some((reply) => 'end' in reply));
    const stream = s.of(1);
    const start = stream[0]!.item as { start: { olderBefore: unknown } };
    expect(start.start.olderBefore).toEqual(expect.objectContaining({ offset: expect.any(Number) }));
    const tail = stream.slice(1, -1).map((reply) => reply.item as LogEntry);
    expect(texts(tail)).toEqual(['line 7', 'line 8', 'line 9', 'line 10', 'line 11']);
    expect(tail.every((entry) => entry.cursor !== undefined)).toBe(true);
    // Where the tail begins is where its first entry begins.
    expect(start.start.olderBefore).toEqual(tail[0]!.cursor);

    s.send({ id: 2, method: 'logs.older', params: { reference: 'c', cursor: tail[0]!.cursor, count: 5 } });
    await s.until(() => s.of(2).length > 0);
    expect(s.of(2)[0]).not.toHaveProperty('error');
    const page = s.of(2)[0]!.result as { entries: LogEntry[]; olderBefore: unknown };
    expect(texts(page.entries)).toEqual(['line 2', 'line 3', 'line 4', 'line 5', 'line 6']);
    expect(page.olderBefore).toEqual(page.entries[0]!.cursor);

    s.send({ id: 3, method: 'logs.older', params: { reference: 'c', cursor: page.olderBefore, count: 5 } });
    await s.until(() => s.of(3).length > 0);
    const first = s.of(3)[0]!.result as { entries: LogEntry[]; olderBefore: unknown };
    expect(texts(first.entries)).toEqual(['line 0', 'line 1']);
    // The log begins here: nothing older, said as null on the wire.
    expect(first.olderBefore).toBeNull();
    await s.close();
  });

  it('without `start` sends entries only, as protocol 1 did', async () => {
    const s = session(fileEngine(writeLog('three.log', 3)));
    s.send({ id: 1, method: 'logs', params: { reference: 'c', options: { tail: 2 } } });
    await s.until(() => s.of(1).some((reply) => 'end' in reply));
    const items = s.of(1).flatMap((reply) => ('item' in reply ? [reply.item as LogEntry] : []));
    expect(texts(items)).toEqual(['line 1', 'line 2']);
    expect(items.every((entry) => entry.cursor === undefined)).toBe(true);
    await s.close();
  });

  it('says where an empty followed log begins before any output comes', async () => {
    const s = session(fileEngine(writeLog('empty.log', 0)));
    s.send({
      id: 1,
      method: 'logs',
      params: { reference: 'c', options: { tail: 1000, follow: true, start: true, positions: true } },
    });
    // Nothing is written: the start must not wait for the first line.
    await s.until(() => s.of(1).length > 0);
    expect(s.of(1)[0]).toEqual({ id: 1, item: { start: { olderBefore: null } } });
    s.send({ id: 1, cancel: true });
    await s.until(() => s.of(1).some((reply) => 'end' in reply));
    await s.close();
  });

  it('refuses a cursor or a page size that is not one, saying what is accepted', async () => {
    const s = session(fileEngine(writeLog('bad.log', 3)));
    s.send({ id: 1, method: 'logs.older', params: { reference: 'c', cursor: { inode: 'x' }, count: 5 } });
    s.send({
      id: 2,
      method: 'logs.older',
      params: { reference: 'c', cursor: { inode: 1, born: 1, offset: 0 }, count: 0 },
    });
    s.send({ id: 3, method: 'logs.older', params: { cursor: { inode: 1, born: 1, offset: 0 }, count: 5 } });
    await s.until(() => [1, 2, 3].every((id) => s.of(id).length > 0));
    const error = (id: number) => s.of(id)[0]!.error as { class: string; message: string; hint?: string };
    expect(error(1)).toMatchObject({
      class: 'InvalidArgumentError',
      message: expect.stringMatching(/not a log cursor/),
    });
    expect(error(1).hint).toMatch(/inode, born, offset/);
    expect(error(2)).toMatchObject({ class: 'InvalidArgumentError', message: 'not a page size: 0' });
    expect(error(2).hint).toMatch(/from 1 to/);
    expect(error(3)).toMatchObject({
      class: 'InvalidArgumentError',
      message: expect.stringMatching(/names no container/),
    });
    await s.close();
  });
});

/** A stand-in for a gantry of protocol 1: its hello, and a logs stream of entries only. */
const OLD_SERVICE = `
const readline = require('node:readline');
const send = (message) => process.stdout.write(JSON.stringify(message) + '\\n');
send({ hello: 'gantry', protocol: 1, minProtocol: 1, gantry: '0.0.9' });
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const message = JSON.parse(line);
  require('node:fs').appendFileSync(process.env.SEEN, line + '\\n');
  if (message.method === 'logs') {
    send({ id: message.id, item: { time: '2026-01-01T00:00:00Z', stream: 'stdout', text: 'old tail\\n' } });
    send({ id: message.id, end: true });
  } else if (message.method) {
    send({ id: message.id, error: { class: 'InvalidArgumentError', message: 'unknown request ' + JSON.stringify(message.method) } });
  }
});
`;

describe('a client facing a protocol-1 service', () => {
  it('gets the tail, is told paging is not supported there (with its version), and asks for nothing new', async () => {
    const script = path.join(dir, 'old-service.cjs');
    fs.writeFileSync(script, OLD_SERVICE);
    const seen = path.join(dir, 'old-service.seen');
    fs.writeFileSync(seen, '');
    const engine = await RemoteEngine.connect(parseSshUrl('ssh://old.example'), {
      env: { GANTRY_SSH_COMMAND: `${process.execPath} ${script}`, SEEN: seen },
    });
    try {
      const reasons: string[] = [];
      let started = false;
      const entries: LogEntry[] = [];
      for await (const entry of engine.logs('c', {
        tail: 10,
        positions: true,
        onStart: () => (started = true),
        onOlderUnsupported: (reason) => reasons.push(reason),
      }))
        entries.push(entry);
      expect(texts(entries)).toEqual(['old tail']);
      expect(started).toBe(false);
      expect(reasons).toEqual([
        'loading older log lines is not supported by the remote gantry (version 0.0.9, protocol 1) on ssh://old.example; upgrade it',
      ]);
      const refused = await engine
        .olderLogs('c', { inode: 1, born: 1, offset: 10 }, 5)
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(UnsupportedError);
      expect((refused as Error).message).toContain('not supported by the remote gantry (version 0.0.9');
      // The old service was asked only what protocol 1 has: no start, no positions, no logs.older.
      const requests = fs
        .readFileSync(seen, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { method: string; params: { options: Record<string, unknown> } });
      expect(requests.map((request) => request.method)).toEqual(['logs']);
      expect(requests[0]!.params.options).toEqual({ tail: 10 });
    } finally {
      engine.close();
      await engine.connection.ended;
    }
  });
});
