/**
 * `COPY --from=STAGE|INDEX|IMAGE`: copies from the filesystem of an earlier stage or of an image
 * instead of the build context. Sources are image paths (relative ones start at the source's
 * root, as BuildKit has it), `*`, `?` and `[...]` match within a component, a symlink named as a
 * source is followed, symlinks inside a copied directory are copied as links. Owner, mode and
 * mtime are kept unless --chown/--chmod say otherwise; hard links between copied files stay
 * hard links.
 *
 * The source is read without mounting it (StackView: overlayfs's rules over the layer
 * directories, symlinks resolved inside the source image, never by the host), and file content
 * through descriptors opened inside each layer directory with no symlink allowed on the way: a
 * RUN step of an earlier stage that planted `/x -> /etc/shadow` copies a link, never the host's
 * file.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { openInRoot, openRoot } from '../../in-root.js';
import type { StackEntry, StackView } from '../diff/stack-view.js';
import type { TarWriter } from '../tar/writer.js';
import type { Instruction } from './containerfile.js';
import type { CopyPlan } from './copy.js';
import { resolveChown } from './copy.js';
import { globRegex } from './glob.js';
import { LayerTarBuilder } from './layer-builder.js';
import { expandWord, expandWords, type Variables } from './words.js';

const { O_RDONLY, O_NOFOLLOW } = fs.constants;
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

/** The major and minor numbers of a device number (glibc's gnu_dev_major/minor). */
function splitDeviceNumber(rdev: number): { major: number; minor: number } {
  const high = Math.floor(rdev / 2 ** 32);
  const low = rdev % 2 ** 32;
  return {
    major: ((low >>> 8) & 0xfff) | ((high & 0xfffff000) >>> 0),
    minor: (low & 0xff) | ((low >>> 12) & 0xfff00),
  };
}

/** Descriptors of the source's layer directories, opened once per copy. */
class LayerFiles {
  private readonly roots = new Map<string, number>();

  open(entry: StackEntry): number {
    let root = this.roots.get(entry.layer);
    if (root === undefined) {
      root = openRoot(entry.layer);
      this.roots.set(entry.layer, root);
    }
    return openInRoot(root, entry.path, O_RDONLY | O_NOFOLLOW, { symlinks: 'none' });
  }

  close(): void {
    for (const fd of this.roots.values()) fs.closeSync(fd);
    this.roots.clear();
  }
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
        const children = [...source.list(resolved)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        for (const [name, child] of children) if (regex.test(name)) next.push(child);
      } else {
        const child = source.child(resolved, part);
        if (child) next.push(child);
      }
    }
    current = next;
  }
  return current;
}

/** Plans a COPY --from instruction. */
export async function planCopyFrom(instruction: Instruction, context: CopyFromContext): Promise<CopyPlan> {
  const words = instruction.json
    ? instruction.json.map((word) => expandWord(word, context.variables, context.escape))
    : expandWords(instruction.rest, context.variables, context.escape);
  if (words.length < 2) {
    throw new InvalidArgumentError('COPY needs at least one source and a destination', {
      hint: 'COPY --from=STAGE SOURCE... DESTINATION',
    });
  }
  const sources = words.slice(0, -1);
  const destinationText = words.at(-1) as string;
  const chownText = instruction.flags.has('chown')
    ? expandWord(instruction.flags.get('chown') as string, context.variables, context.escape)
    : undefined;
  const chmodText = instruction.flags.get('chmod');
  if (chmodText !== undefined && !/^[0-7]{3,4}$/.test(chmodText)) {
    throw new InvalidArgumentError(`COPY --chmod=${chmodText}: expected an octal mode such as 755 or 0644`);
  }
  const chmod = chmodText === undefined ? undefined : parseInt(chmodText, 8);
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
  const intoDirectory = destinationText.endsWith('/') || destinationText.endsWith('/.');
  if (resolved.length > 1 && !intoDirectory) {
    throw new InvalidArgumentError(
      'COPY with more than one source needs a destination directory ending in "/"',
      {
        hint: `write ${destinationText}/`,
      },
    );
  }
  const destination = path.posix.resolve(context.workingDir || '/', destinationText);
  const destinationEntry = context.stack.resolve(destination, { followFinal: true }).entry;
  const destinationIsDirectory = intoDirectory || destinationEntry?.stats.isDirectory() === true;

  const planned: SourceEntry[] = [];
  const directories: string[] = [];
  const walk = (directory: StackEntry, target: string): void => {
    const children = [...context.source.list(directory)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [name, child] of children) {
      const childTarget = path.posix.join(target, name);
      planned.push({ entry: child, target: childTarget });
      if (child.stats.isDirectory()) walk(child, childTarget);
    }
  };
  for (const entry of resolved) {
    if (entry.stats.isDirectory()) {
      directories.push(destination);
      walk(entry, destination);
    } else {
      const name = path.posix.basename(entry.path);
      planned.push({
        entry,
        target: destinationIsDirectory ? path.posix.join(destination, name) : destination,
      });
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
      const layerFiles = new LayerFiles();
      /** Where the first copy of each hard-linked inode went. */
      const linked = new Map<string, string>();
      try {
        for (const directory of directories) await builder.directory(directory);
        for (const { entry, target } of kept) {
          const { stats } = entry;
          const common = {
            path: target,
            mode: chmod ?? stats.mode & 0o7777,
            uid: owner?.uid ?? stats.uid,
            gid: owner?.gid ?? stats.gid,
            mtime: Math.floor(stats.mtimeMs / 1000),
          };
          if (stats.isFile()) {
            const inode = `${stats.dev}:${stats.ino}`;
            const first = stats.nlink > 1 ? linked.get(inode) : undefined;
            if (first !== undefined) {
              await builder.add({ ...common, type: 'hardlink', linkPath: first });
              continue;
            }
            const fd = layerFiles.open(entry);
            const written = await builder.add(
              { ...common, type: 'file', size: stats.size },
              fs.createReadStream('', { fd, highWaterMark: 1 << 20 }),
            );
            if (stats.nlink > 1) linked.set(inode, written.slice(1));
          } else if (stats.isDirectory()) {
            await builder.add({ ...common, type: 'directory' });
          } else if (stats.isSymbolicLink()) {
            await builder.add({
              ...common,
              mode: 0o777,
              type: 'symlink',
              linkPath: fs.readlinkSync(entry.file),
            });
          } else if (stats.isFIFO()) {
            await builder.add({ ...common, type: 'fifo' });
          } else if (stats.isCharacterDevice() || stats.isBlockDevice()) {
            const { major, minor } = splitDeviceNumber(stats.rdev);
            await builder.add({
              ...common,
              type: stats.isCharacterDevice() ? 'char' : 'block',
              devMajor: major,
              devMinor: minor,
            });
          }
        }
      } finally {
        layerFiles.close();
      }
    },
  };
}
