/**
 * `COPY --from=STAGE|INDEX|IMAGE`: copies from the filesystem of an earlier stage or of an image
 * instead of the build context. Sources are image paths (relative ones start at the source's
 * root, as BuildKit has it), `*`, `?` and `[...]` match within a component, a symlink named as a
 * source is followed, symlinks inside a copied directory are copied as links. Owner, mode and
 * mtime are kept unless --chown/--chmod say otherwise; hard links between copied files stay
 * hard links.
 *
 * The source is read without mounting it (StackView: overlayfs's rules over the layer
 * directories, symlinks resolved inside the source image, never by the host), and copied by
 * StackCopier (the copier a volume's pre-fill uses too): file content through descriptors opened
 * inside each layer directory with no symlink allowed on the way, so a RUN step of an earlier
 * stage that planted `/x -> /etc/shadow` copies a link, never the host's file.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { LayerFiles, sortedChildren, StackCopier, type StackCopySink } from '../diff/stack-copy.js';
import type { StackEntry, StackView } from '../diff/stack-view.js';
import type { TarWriter } from '../tar/writer.js';
import type { Instruction } from './containerfile.js';
import type { CopyPlan } from './copy.js';
import { copyArguments, copyDestination, resolveChown } from './copy.js';
import { globRegex } from './glob.js';
import { LayerTarBuilder } from './layer-builder.js';
import type { Variables } from './words.js';

const GLOB = /[*?[]/;

export interface CopyFromContext {
  /** The image being built so far. */
  stack: StackView;
  workingDir: string;
  variables: Variables;
  escape: string;
  /** The --from value as given (after substitution), for the history text. */
  fromValue: string;
  /** "stage builder" or "image alpine", for messages. */
  sourceLabel: string;
  source: StackView;
}

interface SourceEntry {
  entry: StackEntry;
  /** Where it goes in the image being built. */
  target: string;
}

async function hashEntry(files: LayerFiles, entry: StackEntry): Promise<string> {
  const hash = createHash('sha256');
  const fd = files.open(entry);
  for await (const chunk of fs.createReadStream('', { fd, highWaterMark: 1 << 20 }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every path of the source matching `pattern` (an absolute image path with wildcards). */
function expandPattern(source: StackView, pattern: string): StackEntry[] {
  let current: StackEntry[] = [source.root];
  for (const part of pattern.split('/').filter((component) => component !== '' && component !== '.')) {
    const next: StackEntry[] = [];
    for (const directory of current) {
      const resolved = source.resolve(directory.path, { followFinal: true }).entry;
      if (!resolved || !resolved.stats.isDirectory()) continue;
      if (GLOB.test(part)) {
        const regex = globRegex(part);
        for (const [name, child] of sortedChildren(source, resolved)) if (regex.test(name)) next.push(child);
      } else {
        const child = source.child(resolved, part);
        if (child) next.push(child);
      }
    }
    current = next;
  }
  return current;
}

/**
 * A sink writing into the layer tar: owner and mode from --chown/--chmod or the source's, the
 * source's mtime; hard links are kept between regular files only.
 */
function layerSink(
  builder: LayerTarBuilder,
  owner: { uid: number; gid: number } | undefined,
  chmod: number | undefined,
): StackCopySink<string, string> {
  const common = (parent: string, name: string, { stats }: StackEntry) => ({
    path: path.posix.join(parent, name),
    mode: chmod ?? stats.mode & 0o7777,
    uid: owner?.uid ?? stats.uid,
    gid: owner?.gid ?? stats.gid,
    mtime: Math.floor(stats.mtimeMs / 1000),
  });
  return {
    async directory(parent, name, entry, copyChildren) {
      const directory = common(parent, name, entry);
      await builder.add({ ...directory, type: 'directory' });
      await copyChildren(directory.path);
    },
    async file(parent, name, entry, fd) {
      const content = fs.createReadStream('', { fd, highWaterMark: 1 << 20 });
      try {
        const written = await builder.add(
          { ...common(parent, name, entry), type: 'file', size: entry.stats.size },
          content,
        );
        return written.slice(1);
      } finally {
        // Closes the descriptor also when the add failed before reading it (a no-op after the end).
        content.destroy();
      }
    },
    async symlink(parent, name, entry, linkTarget) {
      await builder.add({
        ...common(parent, name, entry),
        mode: 0o777,
        type: 'symlink',
        linkPath: linkTarget,
      });
      return undefined;
    },
    async node(parent, name, entry, type, { major, minor }) {
      if (type === 'fifo') await builder.add({ ...common(parent, name, entry), type });
      else await builder.add({ ...common(parent, name, entry), type, devMajor: major, devMinor: minor });
      return undefined;
    },
    async hardlink(parent, name, entry, first) {
      await builder.add({ ...common(parent, name, entry), type: 'hardlink', linkPath: first });
    },
  };
}

/** Plans a COPY --from instruction. */
export async function planCopyFrom(instruction: Instruction, context: CopyFromContext): Promise<CopyPlan> {
  const { words, sources, destinationText, chownText, chmodText, chmod } = copyArguments(
    instruction,
    context,
    'COPY --from=STAGE SOURCE... DESTINATION',
  );
  const owner = chownText === undefined ? undefined : resolveChown(chownText, context.stack, 'COPY');

  const resolved: StackEntry[] = [];
  for (const source of sources) {
    const absolute = path.posix.resolve('/', source);
    const matches = GLOB.test(absolute)
      ? expandPattern(context.source, absolute)
      : [context.source.lookup(absolute)].filter((entry): entry is StackEntry => entry !== undefined);
    if (matches.length === 0) {
      throw new InvalidArgumentError(
        `COPY --from=${context.fromValue} ${source}: no such file or directory in ${context.sourceLabel}`,
        { hint: `paths of --from are absolute in the source's filesystem; check ${absolute} there` },
      );
    }
    for (const match of matches) {
      // A source that is a symlink is followed (inside the source), as BuildKit follows it.
      const followed = context.source.resolve(match.path, { followFinal: true }).entry;
      if (!followed) {
        throw new InvalidArgumentError(
          `COPY --from=${context.fromValue} ${source}: ${match.path} is a dangling symlink in ${context.sourceLabel}`,
        );
      }
      resolved.push(followed);
    }
  }
  const { destination, destinationIsDirectory } = copyDestination(
    'COPY',
    destinationText,
    resolved.length,
    context,
  );

  /** Each source and where it goes: a directory's content goes into the destination. */
  const tops: SourceEntry[] = [];
  /** Every entry the copy writes, in the order StackCopier writes them (for the cache digest). */
  const planned: SourceEntry[] = [];
  const directories: string[] = [];
  const walk = (directory: StackEntry, target: string): void => {
    for (const [name, child] of sortedChildren(context.source, directory)) {
      const childTarget = path.posix.join(target, name);
      planned.push({ entry: child, target: childTarget });
      if (child.stats.isDirectory()) walk(child, childTarget);
    }
  };
  for (const entry of resolved) {
    if (entry.stats.isDirectory()) {
      directories.push(destination);
      tops.push({ entry, target: destination });
      walk(entry, destination);
    } else {
      const name = path.posix.basename(entry.path);
      const top = {
        entry,
        target: destinationIsDirectory ? path.posix.join(destination, name) : destination,
      };
      tops.push(top);
      planned.push(top);
    }
  }
  const kept = planned.filter(({ entry }) => !entry.stats.isSocket());

  const files = new LayerFiles();
  const digest = createHash('sha256');
  try {
    digest.update(`COPY --from\0${chownText ?? ''}\0${chmodText ?? ''}\n`);
    for (const directory of directories) digest.update(`dir\0${directory}\n`);
    for (const { entry, target } of kept) {
      const { stats } = entry;
      let content = '';
      if (stats.isFile()) content = await hashEntry(files, entry);
      else if (stats.isSymbolicLink()) content = fs.readlinkSync(entry.file);
      digest.update(
        `${target}\0${stats.mode}\0${stats.uid}:${stats.gid}\0${stats.size}\0${stats.rdev}\0${Math.floor(stats.mtimeMs / 1000)}\0${content}\n`,
      );
    }
  } finally {
    files.close();
  }
  const flags = [...instruction.flags].map(([name, value]) =>
    value === ''
      ? `--${name}`
      : `--${name}=${name === 'chown' ? chownText : name === 'from' ? context.fromValue : value}`,
  );

  return {
    text: ['COPY', ...flags, ...words].join(' '),
    contentDigest: `sha256:${digest.digest('hex')}`,
    sources: kept.length,
    async write(writer: TarWriter): Promise<void> {
      const builder = new LayerTarBuilder(writer, context.stack, {
        uid: owner?.uid ?? 0,
        gid: owner?.gid ?? 0,
        mode: chmod ?? 0o755,
        mtime: 0,
      });
      const copier = new StackCopier(context.source, layerSink(builder, owner, chmod));
      try {
        for (const directory of directories) await builder.directory(directory);
        for (const { entry, target } of tops) {
          if (entry.stats.isDirectory()) await copier.copyChildren(entry, target);
          else await copier.copy(entry, path.posix.dirname(target), path.posix.basename(target));
        }
      } finally {
        copier.close();
      }
    },
  };
}
