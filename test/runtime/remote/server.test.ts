/**
 * The serving end of the remote protocol with an engine of the test's own: what the client's
 * messages reach on the engine's side (an exec's input and terminal sizes), and what is ignored.
 * The real engine behind real ssh is in ssh.int.test.ts.
 */
import { PassThrough, Readable } from 'node:stream';
import readline from 'node:readline';
import { describe, expect, it } from 'vitest';
import { serve } from '../../../source/runtime/remote/server.js';
import type { ExecStream, HostEngine } from '../../../source/runtime/remote/host-engine.js';
import { STREAM_CHUNK, STREAM_WINDOW } from '../../../source/runtime/remote/flow.js';
import { session } from './support/session.js';

/** An engine whose only working call is exec: it records what reaches the process. */
function recordingEngine(changed: () => void) {
  const seen = { input: [] as string[], resizes: [] as [number, number][], options: undefined as unknown };
  let finish: (code: number) => void = () => undefined;
  const exit = new Promise<number>((resolve) => (finish = resolve));
  const stream: ExecStream = {
    pid: 4242,
    exit,
    onOutput: () => undefined,
    write: (data) => {
      seen.input.push(data.toString());
      changed();
    },
    endInput: () => undefined,
    signal: () => undefined,
    resize: (rows, cols) => seen.resizes.push([rows, cols]),
  };
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const engine = {
    host: 'local',
    // The process "starts" when the test opens the gate.
    exec: async (_reference: string, options: unknown) => {
      seen.options = options;
      await gate;
      return stream;
    },
  } as unknown as HostEngine;
  return { engine, seen, finish, open };
}

describe('serve', () => {
  it("passes an exec's terminal sizes to its process, and ignores sizes that are not numbers", async () => {
    let wake: () => void = () => undefined;
    const { engine, seen, finish, open } = recordingEngine(() => wake());
    const input = new PassThrough();
    const output = new PassThrough();
    const replies = readline.createInterface({ input: output });
    const messages: Record<string, unknown>[] = [];
    replies.on('line', (line) => {
      messages.push(JSON.parse(line) as Record<string, unknown>);
      wake();
    });
    const until = async (test: () => boolean) => {
      while (!test()) await new Promise<void>((resolve) => (wake = resolve));
    };
    const served = serve(engine, { input, output });
    const send = (message: unknown) => input.write(`${JSON.stringify(message)}\n`);

    // Sizes sent before the process runs are kept, and the latest applies once it does. One
    // chunk: the server has read all three lines before the next turn of the event loop.
    input.write(
      [
        { id: 1, method: 'exec', params: { reference: 'c', options: { command: ['sh'], tty: true } } },
        { id: 1, resize: { rows: 10, cols: 50 } },
        { id: 1, resize: { rows: 20, cols: 70 } },
      ]
        .map((message) => `${JSON.stringify(message)}\n`)
        .join(''),
    );
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(seen.resizes).toEqual([]);
    open();
    await until(() => messages.some((message) => message.id === 1 && 'item' in message));
    send({ id: 1, resize: { rows: 41, cols: 120 } });
    send({ id: 1, resize: { rows: 'x', cols: 1 } });
    send({ id: 1, resize: null });
    send({ id: 1, input: Buffer.from('after\n').toString('base64') });
    // Messages are handled in order: once the input is there, every resize before it was handled.
    await until(() => seen.input.length > 0);
    expect(seen.resizes).toEqual([
      [20, 70],
      [41, 120],
    ]);
    expect(seen.input).toEqual(['after\n']);

    finish(0);
    await until(() => messages.some((message) => message.id === 1 && 'result' in message));
    expect(messages.find((message) => 'result' in message)).toEqual({ id: 1, result: { exitCode: 0 } });
    input.end();
    await served;
  });

  it("passes an image removal's force and allNames to the engine, and only booleans", async () => {
    const seen: unknown[] = [];
    const engine = {
      host: 'local',
      images: {
        remove: (reference: string, options: unknown) => {
          seen.push([reference, options]);
          return Promise.resolve({ untagged: ['a:1', 'a:2'], deleted: 'sha256:ab' });
        },
      },
    } as unknown as HostEngine;
    const input = new PassThrough();
    const output = new PassThrough();
    const replies: Record<string, unknown>[] = [];
    readline.createInterface({ input: output }).on('line', (line) => replies.push(JSON.parse(line)));
    const served = serve(engine, { input, output });
    input.write(
      `${JSON.stringify({ id: 1, method: 'images.remove', params: { reference: 'sha256:ab', allNames: true } })}\n`,
    );
    input.write(
      `${JSON.stringify({ id: 2, method: 'images.remove', params: { reference: 'a:1', allNames: 'yes' } })}\n`,
    );
    input.end();
    await served;
    // The last reply's line event may come a turn after it was written.
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual([
      ['sha256:ab', { force: false, allNames: true }],
      ['a:1', { force: false, allNames: false }],
    ]);
    expect(replies.find((reply) => reply.id === 1)).toEqual({
      id: 1,
      result: { untagged: ['a:1', 'a:2'], deleted: 'sha256:ab' },
    });
  });

  it("sends a copy's archive no further than the client's window, and stops when the client goes", async () => {
    let produced = 0;
    let closed = false;
    // An endless archive: only the window decides how much of it is sent.
    const archive = new Readable({
      read() {
        produced += STREAM_CHUNK;
        this.push(Buffer.alloc(STREAM_CHUNK, 7));
      },
    });
    archive.on('close', () => (closed = true));
    const engine = { host: 'local', copyFrom: async () => archive } as unknown as HostEngine;
    const input = new PassThrough();
    const output = new PassThrough();
    let outputBytes = 0;
    let wake: () => void = () => undefined;
    const messages: Record<string, unknown>[] = [];
    readline.createInterface({ input: output }).on('line', (line) => {
      const message = JSON.parse(line) as Record<string, unknown>;
      messages.push(message);
      if (typeof message.output === 'string') outputBytes += Buffer.from(message.output, 'base64').length;
      wake();
    });
    const settle = async () => {
      for (let turn = 0; turn < 50; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    };
    const until = async (test: () => boolean) => {
      while (!test()) await new Promise<void>((resolve) => (wake = resolve));
    };
    const served = serve(engine, { input, output });
    const send = (message: unknown) => input.write(`${JSON.stringify(message)}\n`);
    send({ id: 3, method: 'copy.from', params: { reference: 'c', request: { source: '/x' } } });
    await until(() => outputBytes >= STREAM_WINDOW);
    await settle();
    expect(outputBytes).toBe(STREAM_WINDOW);
    send({ id: 3, credit: 2 * STREAM_CHUNK });
    await until(() => outputBytes >= STREAM_WINDOW + 2 * STREAM_CHUNK);
    await settle();
    expect(outputBytes).toBe(STREAM_WINDOW + 2 * STREAM_CHUNK);
    // The archive was read ahead by no more than the streams' own buffers.
    expect(produced).toBeLessThan(STREAM_WINDOW + 8 * STREAM_CHUNK);
    send({ id: 3, cancel: true });
    await until(() => messages.some((message) => message.id === 3 && 'error' in message));
    expect(closed).toBe(true);
    input.end();
    await served;
  });

  it('ends an attached relay at a detach without a signal to the container, and says it detached', async () => {
    const signals: string[] = [];
    let detaches = 0;
    let finish: (code: number) => void = () => undefined;
    const stream: ExecStream = {
      pid: 4242,
      exit: new Promise<number>((resolve) => (finish = resolve)),
      onOutput: () => undefined,
      write: () => undefined,
      endInput: () => undefined,
      signal: (name) => signals.push(name),
      resize: () => undefined,
      detach: () => {
        detaches += 1;
        // The host's relay ends (killed); the container is not its to signal.
        finish(137);
        return Promise.resolve();
      },
    };
    const s = session({
      host: 'local',
      startAttached: () => Promise.resolve(stream),
    } as unknown as HostEngine);
    s.send({
      id: 1,
      method: 'start.attached',
      params: { reference: 'c', options: { stdin: true, tty: true } },
    });
    await s.until(() => s.of(1).some((reply) => 'item' in reply));
    s.send({ id: 1, detach: true });
    s.send({ id: 1, detach: true });
    await s.until(() => s.of(1).some((reply) => 'result' in reply));
    // The session ends right after: a client that detached did not hang up on the container.
    await s.close();
    expect(s.replies.find((reply) => 'result' in reply)).toEqual({ id: 1, result: { detached: true } });
    expect(detaches).toBe(1);
    expect(signals).toEqual([]);
  });
});
