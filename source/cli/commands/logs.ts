/** `gantry logs`: a container's stdout and stderr from its log file, docker's flags. */
import { once } from 'node:events';
import { bool, str, type CommandSpec, type ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { parseSince } from '../../runtime/containers/logs.js';
import { InvalidArgumentError } from '../../runtime/errors.js';

export const spec: CommandSpec = {
  name: 'logs',
  usage: 'logs [OPTIONS] CONTAINER',
  description: 'Fetch the logs of a container (stdout and stderr, kept apart)',
  minArgs: 1,
  maxArgs: 1,
  options: [
    { name: 'follow', short: 'f', type: 'boolean', description: 'Follow log output' },
    { name: 'timestamps', short: 't', type: 'boolean', description: 'Show timestamps' },
    {
      name: 'tail',
      short: 'n',
      type: 'string',
      description: 'Number of lines to show from the end of the logs (default "all")',
    },
    { name: 'since', type: 'string', description: 'Show logs since a timestamp or relative time (e.g. 42m)' },
    { name: 'until', type: 'string', description: 'Show logs before a timestamp or relative time' },
    {
      name: 'details',
      type: 'boolean',
      description: 'Show extra details provided to logs (the labels and env named by --log-opt labels=/env=)',
    },
  ],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  // docker: a negative count means all of it.
  const given = str(parsed.options, 'tail') ?? 'all';
  const tailText = /^-\d+$/.test(given) ? 'all' : given;
  if (tailText !== 'all' && !/^\d+$/.test(tailText)) {
    throw new InvalidArgumentError(
      `invalid --tail ${JSON.stringify(tailText)}: give a number of lines or "all"`,
    );
  }
  const since = str(parsed.options, 'since');
  const until = str(parsed.options, 'until');
  const engine = await context.hostEngine();
  const timestamps = bool(parsed.options, 'timestamps');
  let details = '';
  if (bool(parsed.options, 'details')) {
    const [record, { logConfigOf, logDetails }] = await Promise.all([
      engine.get(parsed.args[0]!),
      import('../../runtime/containers/log-config.js'),
    ]);
    details = logDetails(logConfigOf(record.HostConfig), record.Config.Labels ?? {}, record.Config.Env);
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  // Entries are gathered and written a block at a time (a write per line made a large log
  // cost a system call per line); a pause of the reader (following) writes what is gathered.
  const output = new BatchedOutput();
  try {
    for await (const entry of engine.logs(parsed.args[0]!, {
      follow: bool(parsed.options, 'follow'),
      ...(tailText !== 'all' ? { tail: Number(tailText) } : {}),
      ...(since ? { since: parseSince(since) } : {}),
      ...(until ? { until: parseSince(until) } : {}),
      signal: controller.signal,
    })) {
      // docker's order: the timestamp, then the details, then the line.
      output.add(entry.stream, `${timestamps ? `${entry.time} ` : ''}${details}${entry.text}`);
      // A slow reader (a pipe into a busy process) holds the reading back: what waits to be
      // written stays a block or two, never the whole log in memory.
      const backlog = output.backlog();
      if (backlog) await backlog;
    }
  } finally {
    output.flush();
    process.off('SIGINT', stop);
  }
  return 0;
}

/**
 * Text for stdout and stderr, kept in order, written when a block is full or the reader waits.
 * process.stdout on a pipe writes asynchronously and buffers without limit, so the caller waits
 * on backlog() before reading more.
 */
class BatchedOutput {
  private stream: 'stdout' | 'stderr' = 'stdout';
  private parts: string[] = [];
  private length = 0;
  private scheduled = false;

  add(stream: 'stdout' | 'stderr', text: string): void {
    if (stream !== this.stream) this.flush();
    this.stream = stream;
    this.parts.push(text);
    this.length += text.length;
    if (this.length >= 64 * 1024) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Resolves when the stream written last drains, if it holds more than its buffer mark. */
  backlog(): Promise<unknown> | undefined {
    for (const stream of [process.stdout, process.stderr])
      if (stream.writableNeedDrain) return once(stream, 'drain');
    return undefined;
  }

  flush(): void {
    this.scheduled = false;
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.length = 0;
    (this.stream === 'stderr' ? process.stderr : process.stdout).write(text);
  }
}
