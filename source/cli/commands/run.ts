import type { CommandSpec, ParsedArgs } from '../args.js';
import { bool } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { CREATE_OPTIONS, createOptionsFrom } from './run-options.js';
import { runAttached, runAttachedRemote } from './attached.js';
import { ensureImage, PULL_OPTIONS } from './pull-policy.js';
import { InvalidArgumentError } from '../../runtime/errors.js';

export const spec: CommandSpec = {
  name: 'run',
  usage: 'run [OPTIONS] IMAGE [COMMAND] [ARG...]',
  description: 'Create and run a new container from an image',
  stopAtFirstPositional: true,
  minArgs: 1,
  options: [
    {
      name: 'detach',
      short: 'd',
      type: 'boolean',
      description: 'Run container in background and print container ID',
    },
    ...CREATE_OPTIONS,
    ...PULL_OPTIONS,
  ],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const options = await createOptionsFrom(parsed.options, parsed.args);
  if (bool(parsed.options, 'detach') && options.attach !== undefined)
    throw new InvalidArgumentError('conflicting options: -a and -d', {
      hint: 'a detached container has nothing attached; leave out one of them',
    });
  await ensureImage(context, options.image, parsed.options);
  const engine = await context.hostEngine();
  const record = await engine.create(options);
  if (bool(parsed.options, 'detach')) {
    try {
      await engine.start(record.Id);
    } catch (error) {
      if (record.HostConfig.AutoRemove)
        await engine.remove(record.Id, { force: true }).catch(() => undefined);
      throw error;
    }
    write(context.stdout, record.Id);
    return 0;
  }
  if (context.host !== undefined)
    return runAttachedRemote(engine, record, {
      stdin: record.Config.AttachStdin && (options.interactive ?? false),
      tty: options.tty ?? false,
    });
  return runAttached(await context.engine(), record, {
    stdin: record.Config.AttachStdin && (options.interactive ?? false),
    tty: options.tty ?? false,
  });
}
