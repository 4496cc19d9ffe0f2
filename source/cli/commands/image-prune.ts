/** `gantry image prune [-a] [-f]`: removes dangling (or all unused) images, then unused layers. */
import { bool, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { humanSize } from '../format.js';
import { confirm } from '../confirm.js';

export const spec: CommandSpec = {
  name: 'image prune',
  usage: 'image prune [OPTIONS]',
  description: 'Remove dangling images (no name and no container), then every layer and blob nothing uses',
  maxArgs: 0,
  options: [
    {
      name: 'all',
      short: 'a',
      type: 'boolean',
      description: 'Remove all images no container uses, not just dangling ones',
    },
    { name: 'force', short: 'f', type: 'boolean', description: 'Do not prompt for confirmation' },
    { name: 'json', type: 'boolean', description: 'Print what was removed as JSON' },
  ],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const all = bool(parsed.options, 'all');
  if (!bool(parsed.options, 'force')) {
    const warning = all
      ? 'WARNING! This will remove all images without at least one container associated to them.'
      : 'WARNING! This will remove all dangling images.';
    if (!(await confirm(`${warning}\nAre you sure you want to continue? [y/N] `, context))) {
      if (!process.stdin.isTTY) context.stdout.write('\n');
      return 0;
    }
  }
  const engine = await context.engine();
  const result = await engine.images.prune({ all });
  const { BuildCache } = await import('../../runtime/images/build/cache.js');
  const cacheRecords = await new BuildCache(engine.layout).prune();
  // Lock files of pulls that a kill -9 (or an older gantry) left in the pull cache.
  const [{ sweepStaleBlobLocks }, { pullCacheDirectory }] = await Promise.all([
    import('../../runtime/images/registry/blob-lock.js'),
    import('../../runtime/images/registry/transfer.js'),
  ]);
  await sweepStaleBlobLocks(pullCacheDirectory(engine.layout));
  if (bool(parsed.options, 'json')) {
    write(context.stdout, JSON.stringify({ ...result, removedCacheRecords: cacheRecords }, null, 2));
    return 0;
  }
  if (result.deleted.length > 0) {
    write(context.stdout, 'Deleted Images:');
    for (const image of result.deleted) {
      for (const name of image.names) write(context.stdout, `untagged: ${name}`);
      write(context.stdout, `deleted: ${image.id}`);
    }
    write(context.stdout, '');
  }
  write(context.stdout, `Total reclaimed space: ${humanSize(result.reclaimedBytes)}`);
  return 0;
}
