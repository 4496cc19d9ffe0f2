/**
 * serve() over pipes, with an engine of the test's own: send requests, wait for replies that
 * match a test.
 */
import { PassThrough } from 'node:stream';
import readline from 'node:readline';
import { serve } from '../../../../source/runtime/remote/server.js';
import type { HostEngine } from '../../../../source/runtime/remote/host-engine.js';

export function session(engine: HostEngine) {
  const input = new PassThrough();
  const output = new PassThrough();
  const replies: Record<string, unknown>[] = [];
  let wake: () => void = () => undefined;
  readline.createInterface({ input: output }).on('line', (line) => {
    replies.push(JSON.parse(line) as Record<string, unknown>);
    wake();
  });
  const served = serve(engine, { input, output });
  return {
    replies,
    send: (message: unknown) => input.write(`${JSON.stringify(message)}\n`),
    until: async (test: () => boolean) => {
      while (!test()) await new Promise<void>((resolve) => (wake = resolve));
    },
    of: (id: number) => replies.filter((reply) => reply.id === id),
    /** Ends the client's side and waits for the service to finish. */
    close: async () => {
      input.end();
      await served;
    },
  };
}
