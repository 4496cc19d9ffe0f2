/**
 * Where `save`, `export` and `image export` write an archive, written once: docker's `-o FILE`
 * option, the refusal to pour a tar onto a terminal, and the stream to stdout (through
 * process.stdout, which never ends, with its backpressure and EPIPE handling).
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { OptionSpec } from './args.js';
import { InvalidArgumentError } from '../runtime/errors.js';

/** docker's `-o, --output FILE` of save and export. */
export const OUTPUT_OPTION: OptionSpec = {
  name: 'output',
  short: 'o',
  type: 'string',
  placeholder: 'file',
  description: 'Write to a file, instead of STDOUT',
};

/** Refuses, before any work, to write `what` ("an image archive") onto a terminal. */
export function refuseTerminalStdout(what: string, hint: string): void {
  if (process.stdout.isTTY)
    throw new InvalidArgumentError(`refusing to write ${what} to a terminal`, { hint });
}

/** Runs `produce` with a stream whose bytes go to stdout; resolves once stdout has taken them. */
export async function streamToStdout(produce: (output: Writable) => Promise<unknown>): Promise<void> {
  const { PassThrough } = await import('node:stream');
  const output = new PassThrough({ highWaterMark: 1 << 20 });
  output.pipe(process.stdout, { end: false });
  await produce(output);
  if (process.stdout.writableNeedDrain) await once(process.stdout, 'drain');
}
