/**
 * The side of `cp` that stays on this machine when the container is on another host: a tree
 * read here and sent as a tar stream (its top first, named as here), or a stream from the host
 * placed here by the same rules and the same writer as a local copy (TreeSink: nothing written
 * through a symlink, no name climbing out with ".."). The host resolves its side inside the
 * container's root with copy.ts, as a local cp does.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { DirectoryHandle } from '../../in-root.js';
import { InvalidArgumentError } from '../../errors.js';
import {
  drain,
  openHostSource,
  planHostDestination,
  tarCopyEntries,
  type CopyOptions,
  type CopySource,
} from './copy.js';
import { walkEntries } from './entries.js';
import { TarSink, TreeSink } from './sinks.js';

/** `cp SRC HOST_CONTAINER:DEST`: what SRC is, and it as a tar stream whose first entry is its top. */
export function hostTreeArchive(
  given: string,
  options: CopyOptions = {},
): { source: CopySource; archive: Readable } {
  const { parent, name, stats, contentsOnly } = openHostSource(given, options);
  const archive = new PassThrough();
  // Kept by the stream until its reader (the copy's sender) attaches, never an uncaught 'error'.
  archive.on('error', () => undefined);
  drain(walkEntries(parent, name, name, { xattrs: options.archive === true }), new TarSink(archive))
    .then(
      () => archive.end(),
      (error: unknown) => archive.destroy(error as Error),
    )
    .finally(() => parent.close());
  return { source: { name, isDirectory: stats.isDirectory(), contentsOnly }, archive };
}

/**
 * `cp HOST_CONTAINER:SRC DEST`: the host's stream of SRC (its top first, named as there) placed at
 * DEST by docker's rules; `contentsOnly` is the "SRC/." form as the user gave it.
 */
export async function extractTreeToHost(
  archive: Readable,
  destination: string,
  options: CopyOptions & { contentsOnly: boolean; label: string },
): Promise<void> {
  const chown = options.archive === true;
  let top: DirectoryHandle | undefined;
  let sink: TreeSink | undefined;
  try {
    for await (const { entry, content, top: name } of tarCopyEntries(archive, options.label, {
      xattrs: chown,
      top: true,
    })) {
      if (!sink) {
        const plan = planHostDestination(destination, {
          name: name ?? '',
          isDirectory: entry.type === 'directory',
          contentsOnly: options.contentsOnly,
        });
        top = plan.top;
        sink = new TreeSink(top, plan.rename, { chown });
      }
      await sink.add(entry, content);
    }
    if (!sink) throw new InvalidArgumentError(`${options.label} was empty`);
    await sink.finish();
  } finally {
    top?.close();
  }
}
