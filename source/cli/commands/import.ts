/**
 * `gantry import FILE|- [REPOSITORY[:TAG]]` (also `image import`): docker's import, a filesystem
 * tarball (what `export` writes) becoming a one-layer image, with `--change` for its config. An
 * OCI layout, oci-archive or docker-archive given instead is imported as the image it holds
 * (gantry's `image import` always took those), told apart by content, never by name.
 */
import { list, str, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { spoolStdin } from '../stdin.js';
import { InvalidArgumentError } from '../../runtime/errors.js';
import type { ImageStore } from '../../runtime/images/store.js';
import type {
  NotAnImageArchiveError,
  openImageSource as OpenImageSource,
} from '../../runtime/images/import/open-source.js';

export const spec: CommandSpec = {
  name: 'import',
  usage: 'import [OPTIONS] FILE|- [REPOSITORY[:TAG]]',
  description:
    'Import the contents from a tarball to create a filesystem image (an OCI layout, oci-archive or docker-archive is imported as its image)',
  minArgs: 1,
  maxArgs: 2,
  options: [
    {
      name: 'change',
      short: 'c',
      type: 'list',
      description:
        'Apply a Containerfile instruction to the created image (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL)',
    },
    {
      name: 'message',
      short: 'm',
      type: 'string',
      description: 'Set the commit message for the imported image',
    },
    {
      name: 'platform',
      type: 'string',
      placeholder: 'os/arch[/variant]',
      description: 'Platform to pick from a multi-platform index (default: this host)',
    },
  ],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const [source, reference] = parsed.args as [string, string | undefined];
  const changes = list(parsed.options, 'change');
  const message = str(parsed.options, 'message');
  const platform = str(parsed.options, 'platform');
  const engine = await context.engine();
  let store = engine.images;
  if (platform !== undefined) {
    const [{ ImageStore }, { parsePlatform }] = await Promise.all([
      import('../../runtime/images/store.js'),
      import('../../runtime/images/import/platform.js'),
    ]);
    store = new ImageStore(engine.layout, { platform: parsePlatform(platform), journal: engine.journal });
  }
  const [{ NotAnImageArchiveError, openImageSource }, { importRootfs, parseChanges }] = await Promise.all([
    import('../../runtime/images/import/open-source.js'),
    import('../../runtime/images/import/rootfs.js'),
  ]);
  parseChanges(changes);
  // stdin is kept in a private work directory first: telling an image archive from a root
  // filesystem takes reading it from anywhere, and a half-read stream must not become an image.
  const spool = source === '-' ? await spoolStdin(store, 'stdin', 'stdin.tar') : undefined;
  try {
    const file = spool?.file ?? source;
    if (changes.length > 0 || message !== undefined) {
      // Refused before anything is stored: --change shapes a filesystem tarball's image only.
      if (await holdsImage(store, file, openImageSource, NotAnImageArchiveError)) {
        throw new InvalidArgumentError(
          `${source} is an image archive: --change and --message apply to a filesystem tarball only`,
          { hint: 'import it without them, then `gantry build` or `gantry commit --change` to change it' },
        );
      }
    } else {
      try {
        const records = await store.import(file, reference !== undefined ? { name: reference } : {});
        for (const record of records)
          write(context.stdout, `Imported ${record.names.join(', ') || '<none>'} ${record.id}`);
        return 0;
      } catch (error) {
        if (!(error instanceof NotAnImageArchiveError)) throw error;
      }
    }
    const record = await importRootfs(store, file, {
      ...(reference !== undefined ? { reference } : {}),
      ...(message !== undefined ? { message } : {}),
      changes,
      label: source,
    });
    write(context.stdout, record.id);
    return 0;
  } finally {
    await spool?.work.dispose();
  }
}

/** Whether `file` is an image layout or archive (read in a work directory of its own). */
async function holdsImage(
  store: ImageStore,
  file: string,
  open: typeof OpenImageSource,
  notAnImage: typeof NotAnImageArchiveError,
): Promise<boolean> {
  const work = await store.createWorkDirectory('probe');
  try {
    await open(file, work.path);
    return true;
  } catch (error) {
    if (error instanceof notAnImage) return false;
    throw error;
  } finally {
    await work.dispose();
  }
}
