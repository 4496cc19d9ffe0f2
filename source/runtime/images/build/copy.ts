/**
 * COPY and ADD from the build context: sources relative to the context (wildcards, .dockerignore
 * applied, nothing outside the context, symlinks followed only inside it), docker's destination
 * rules (a trailing "/" or an existing directory means "into"; a directory's contents are copied,
 * not the directory), --chown and --chmod, and for ADD the extraction of local tar archives
 * (add-archive.ts) and the download of URLs (add-url.ts). The plan is made first: its content digest is part of the step's cache key,
 * and the layer is only written when the cache has no match.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import type { StackView } from '../diff/stack-view.js';
import type { TarEntryType } from '../tar/header.js';
import type { TarWriter } from '../tar/writer.js';
import { archiveKind, extractArchive, type ArchiveKind } from './add-archive.js';
import { checkAddUrl, downloadForAdd, parseChecksum, URL_SOURCE } from './add-url.js';
import type { Instruction } from './containerfile.js';
import { globRegex } from './glob.js';
import type { IgnoreMatcher } from './ignore.js';
import { LayerTarBuilder } from './layer-builder.js';
import { expandHeredoc, expandWord, expandWords, type Variables } from './words.js';

export interface CopyContext {
  /** The context directory, symlinks resolved. */
  contextDirectory: string;
  ignore: IgnoreMatcher;
  /** The image so far. */
  stack: StackView;
  workingDir: string;
  variables: Variables;
  escape: string;
  /** Where ADD puts the files it downloads (inside the build's work directory). */
  downloadDirectory: string;
  signal?: AbortSignal;
}

export interface CopyPlan {
  /** The instruction with variables substituted, as the cache key and the history use it. */
  text: string;
  /** sha256 over what is copied: destination names, types, modes and content. */
  contentDigest: string;
  /** Number of entries the plan copies (files, directories, links; archives count as one). */
  sources: number;
  /** Writes the layer. */
  write(writer: TarWriter): Promise<void>;
}

interface PlannedEntry {
  /** Host path in the context. */
  host: string;
  stats: fs.Stats;
  /** Where it goes in the image (absolute, before symlink resolution of its parents). */
  target: string;
  /** ADD: extract this archive into `target` instead of copying it. */
  archive?: ArchiveKind;
  /** A here-document's content (`COPY <<EOF /file`): no host file. */
  inline?: Buffer;
}

/** Stands in for the lstat of a here-document: a regular file of mode 0644. */
const INLINE_STATS = Object.assign(Object.create(fs.Stats.prototype) as fs.Stats, {
  mode: fs.constants.S_IFREG | 0o644,
  size: 0,
  nlink: 1,
});

const GLOB = /[*?[]/;

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Every path of the context that .dockerignore keeps, relative, sorted, parents first. */
function listContext(context: CopyContext, relativeDirectory = ''): string[] {
  const result: string[] = [];
  const walk = (relative: string): void => {
    const names = fs.readdirSync(path.join(context.contextDirectory, relative)).sort(byteOrder);
    for (const name of names) {
      const child = relative === '' ? name : `${relative}/${name}`;
      const ignored = context.ignore.ignores(child);
      const stats = fs.lstatSync(path.join(context.contextDirectory, child));
      if (!ignored) result.push(child);
      if (stats.isDirectory() && (!ignored || context.ignore.hasExclusions)) walk(child);
    }
  };
  walk(relativeDirectory);
  return result;
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function entryType(stats: fs.Stats): TarEntryType | undefined {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isFIFO()) return 'fifo';
  return undefined; // sockets and device nodes have no place in a context copy
}

/** The largest uid or gid (4294967295 is the kernel's "no change" value). */
const MAX_ID = 0xfffffffe;

/** Parses --chown (user[:group], names or numbers) against the image's passwd and group files. */
export function resolveChown(value: string, stack: StackView, keyword: string): { uid: number; gid: number } {
  const colon = value.indexOf(':');
  const [user, group] = colon < 0 ? [value, undefined] : [value.slice(0, colon), value.slice(colon + 1)];
  if (user === '' || group === '') {
    throw new InvalidArgumentError(`${keyword} --chown=${value}: expected USER[:GROUP]`);
  }
  const lookup = (name: string, file: string, what: string): number => {
    if (/^\d+$/.test(name)) {
      const id = Number(name);
      if (id > MAX_ID)
        throw new InvalidArgumentError(
          `${keyword} --chown=${value}: ${what} id ${name} is out of range; ids go from 0 to ${MAX_ID}`,
        );
      return id;
    }
    const text = stack.readFile(file) ?? '';
    for (const line of text.split('\n')) {
      const fields = line.split(':');
      if (fields[0] === name && fields[2] !== undefined && /^\d+$/.test(fields[2])) return Number(fields[2]);
    }
    throw new InvalidArgumentError(
      `${keyword} --chown=${value}: no ${what} "${name}" in the image's ${file}`,
      {
        hint: 'use a numeric id, or create the user in an earlier step',
      },
    );
  };
  const uid = lookup(user, '/etc/passwd', 'user');
  // docker: a user without a group uses the same number as the group.
  const gid = group === undefined ? uid : lookup(group, '/etc/group', 'group');
  return { uid, gid };
}

/** What COPY, ADD and COPY --from read alike from their instruction. */
export interface CopyArguments {
  /** Every word, variables substituted (sources, then the destination). */
  words: string[];
  sources: string[];
  destinationText: string;
  chownText: string | undefined;
  chmodText: string | undefined;
  /** --chmod as a number. */
  chmod: number | undefined;
}

/** Reads sources, destination, --chown and --chmod; `usage` is the hint when words are missing. */
export function copyArguments(
  instruction: Instruction,
  context: Pick<CopyContext, 'variables' | 'escape'>,
  usage: string,
): CopyArguments {
  const keyword = instruction.keyword;
  const words = instruction.json
    ? instruction.json.map((word) => expandWord(word, context.variables, context.escape))
    : expandWords(instruction.rest, context.variables, context.escape);
  if (words.length < 2) {
    throw new InvalidArgumentError(`${keyword} needs at least one source and a destination`, {
      hint: usage,
    });
  }
  const chownText = instruction.flags.has('chown')
    ? expandWord(instruction.flags.get('chown') as string, context.variables, context.escape)
    : undefined;
  const chmodText = instruction.flags.get('chmod');
  if (chmodText !== undefined && !/^[0-7]{3,4}$/.test(chmodText)) {
    throw new InvalidArgumentError(
      `${keyword} --chmod=${chmodText}: expected an octal mode such as 755 or 0644`,
    );
  }
  return {
    words,
    sources: words.slice(0, -1),
    destinationText: words.at(-1) as string,
    chownText,
    chmodText,
    chmod: chmodText === undefined ? undefined : parseInt(chmodText, 8),
  };
}

/**
 * Where `sourceCount` sources go: the destination resolved against WORKDIR, and whether it is a
 * directory (written with a trailing "/", or one in the image already). More than one source
 * needs a directory written as one.
 */
export function copyDestination(
  keyword: string,
  destinationText: string,
  sourceCount: number,
  context: Pick<CopyContext, 'stack' | 'workingDir'>,
): { destination: string; destinationIsDirectory: boolean } {
  const intoDirectory = destinationText.endsWith('/') || destinationText.endsWith('/.');
  if (sourceCount > 1 && !intoDirectory) {
    throw new InvalidArgumentError(
      `${keyword} with more than one source needs a destination directory ending in "/"`,
      {
        hint: `write ${destinationText}/`,
      },
    );
  }
  const destination = path.posix.resolve(context.workingDir || '/', destinationText);
  const destinationEntry = context.stack.resolve(destination, { followFinal: true }).entry;
  return {
    destination,
    destinationIsDirectory: intoDirectory || destinationEntry?.stats.isDirectory() === true,
  };
}

/** Plans a COPY or ADD instruction against the context and the image so far. */
export async function planCopy(instruction: Instruction, context: CopyContext): Promise<CopyPlan> {
  const keyword = instruction.keyword;
  const isAdd = keyword === 'ADD';
  const { words, sources, destinationText, chownText, chmodText, chmod } = copyArguments(
    instruction,
    context,
    `${keyword} SOURCE... DESTINATION`,
  );
  const owner =
    chownText === undefined ? { uid: 0, gid: 0 } : resolveChown(chownText, context.stack, keyword);

  let contextList: string[] | undefined;
  let unmatched: string | undefined;
  const resolved: Array<{ relative: string; host: string; stats: fs.Stats; downloaded?: boolean }> = [];
  const checksumText = instruction.flags.get('checksum');
  const checksum = checksumText === undefined ? undefined : parseChecksum(checksumText);
  if (checksum && !sources.every((source) => URL_SOURCE.test(source))) {
    throw new InvalidArgumentError(`ADD --checksum=${checksumText}: a checksum applies to URL sources only`, {
      hint: 'remove --checksum, or ADD the URL in its own instruction',
    });
  }
  const inline: Array<{ name: string; content: Buffer }> = [];
  for (const source of sources) {
    const heredoc = /^<<-?(\S+)$/.exec(source)?.[1];
    const document =
      heredoc === undefined ? undefined : instruction.heredocs?.find((doc) => doc.name === heredoc);
    if (document) {
      const content = document.expand
        ? expandHeredoc(document.content, context.variables, context.escape)
        : document.content;
      inline.push({ name: document.name, content: Buffer.from(content) });
      continue;
    }
    if (URL_SOURCE.test(source)) {
      const url = checkAddUrl(source, keyword);
      const download = await downloadForAdd(url, context.downloadDirectory, checksum, context.signal);
      if (download.name === '' && (destinationText.endsWith('/') || destinationText.endsWith('/.'))) {
        throw new InvalidArgumentError(`ADD ${source}: the URL names no file for the destination directory`, {
          hint: 'give the destination as a file path, e.g. ADD URL /path/file',
        });
      }
      resolved.push({
        relative: download.name,
        host: download.file,
        stats: fs.statSync(download.file),
        downloaded: true,
      });
      continue;
    }
    const normalized = path.posix.normalize(source.replace(/^\/+/, ''));
    if (normalized === '..' || normalized.startsWith('../')) {
      throw new InvalidArgumentError(
        `${keyword} ${source}: the path is outside the build context ${context.contextDirectory}`,
        {
          hint: 'sources are relative to the context directory; move the file into it or use a larger context',
        },
      );
    }
    const relative = normalized === '.' ? '' : normalized.replace(/\/+$/, '');
    let matches: string[];
    if (GLOB.test(relative)) {
      contextList ??= listContext(context);
      const regex = globRegex(relative);
      matches = contextList.filter((candidate) => regex.test(candidate));
      // As BuildKit: a pattern may match nothing when another source gives something.
      if (matches.length === 0) unmatched ??= source;
    } else {
      matches = [relative];
    }
    for (const match of matches) {
      const host = path.join(context.contextDirectory, match);
      let real: string;
      try {
        real = fs.realpathSync(host);
      } catch {
        throw new InvalidArgumentError(
          `${keyword} ${source}: no such file or directory in the build context ${context.contextDirectory}`,
        );
      }
      if (real !== context.contextDirectory && !real.startsWith(`${context.contextDirectory}/`)) {
        throw new InvalidArgumentError(
          `${keyword} ${source}: the path is outside the build context (a symlink to ${real})`,
          {
            hint: 'sources and the symlinks they follow must stay inside the context directory',
          },
        );
      }
      if (match !== '' && context.ignore.ignores(match)) {
        throw new InvalidArgumentError(`${keyword} ${source}: ${match} is excluded by .dockerignore`, {
          hint: 'remove the pattern that matches it from .dockerignore (or .containerignore)',
        });
      }
      resolved.push({ relative: match, host: real, stats: fs.statSync(real) });
    }
  }

  if (resolved.length === 0 && inline.length === 0 && unmatched !== undefined) {
    throw new InvalidArgumentError(`${keyword} ${unmatched}: no file in the build context matches`, {
      hint: `the context is ${context.contextDirectory}; check the pattern and .dockerignore`,
    });
  }
  const { destination, destinationIsDirectory } = copyDestination(
    keyword,
    destinationText,
    resolved.length + inline.length,
    context,
  );

  const planned: PlannedEntry[] = [];
  const directories: string[] = [];
  for (const source of resolved) {
    if (source.stats.isDirectory()) {
      directories.push(destination);
      const prefix = source.relative;
      for (const child of listContext(context, prefix)) {
        const host = path.join(context.contextDirectory, child);
        const stats = fs.lstatSync(host);
        if (!entryType(stats)) continue;
        const inside = prefix === '' ? child : child.slice(prefix.length + 1);
        planned.push({ host, stats, target: path.posix.join(destination, inside) });
      }
      continue;
    }
    const archive =
      isAdd && !source.downloaded ? await archiveKind(source.host, `ADD ${source.relative}`) : undefined;
    if (archive) {
      directories.push(destination);
      planned.push({ host: source.host, stats: source.stats, target: destination, archive });
      continue;
    }
    const name = path.posix.basename(source.relative || source.host);
    planned.push({
      host: source.host,
      stats: source.stats,
      target: destinationIsDirectory ? path.posix.join(destination, name) : destination,
    });
  }

  for (const document of inline) {
    planned.push({
      host: '',
      stats: INLINE_STATS,
      target: destinationIsDirectory ? path.posix.join(destination, document.name) : destination,
      inline: document.content,
    });
  }

  // The digest covers everything that decides the layer's content except mtimes (as docker).
  const digest = createHash('sha256');
  digest.update(`${keyword}\0${chownText ?? ''}\0${chmodText ?? ''}\n`);
  for (const directory of directories) digest.update(`dir\0${directory}\n`);
  const linkTargets = new Map<string, string>();
  for (const entry of planned) {
    const type = entryType(entry.stats);
    let content = '';
    if (entry.inline) content = createHash('sha256').update(entry.inline).digest('hex');
    else if (type === 'file') content = await hashFile(entry.host);
    else if (type === 'symlink') content = fs.readlinkSync(entry.host);
    const size = entry.inline ? entry.inline.length : type === 'file' ? entry.stats.size : 0;
    if (type === 'file' && entry.stats.nlink > 1) {
      const inode = `${entry.stats.dev}:${entry.stats.ino}`;
      const first = linkTargets.get(inode);
      if (first === undefined) linkTargets.set(inode, entry.target);
      else digest.update(`link\0${entry.target}\0${first}\n`);
    }
    digest.update(
      `${entry.target}\0${entry.archive ?? type}\0${entry.stats.mode & 0o7777}\0${size}\0${content}\n`,
    );
  }
  const flags = [...instruction.flags].map(([name, value]) =>
    value === '' ? `--${name}` : `--${name}=${name === 'chown' ? chownText : value}`,
  );
  const text = [keyword, ...flags, ...words].join(' ');

  return {
    text,
    contentDigest: `sha256:${digest.digest('hex')}`,
    sources: planned.length,
    async write(writer: TarWriter): Promise<void> {
      const builder = new LayerTarBuilder(writer, context.stack, {
        ...owner,
        mode: chmod ?? 0o755,
        mtime: 0,
      });
      /** Where the first copy of each hard-linked inode of the context went. */
      const linked = new Map<string, string>();
      for (const directory of directories) await builder.directory(directory);
      for (const entry of planned) {
        if (entry.archive) {
          await extractArchive(
            builder,
            { host: entry.host, target: entry.target, archive: entry.archive },
            chownText === undefined ? undefined : owner,
            chmod,
          );
          continue;
        }
        if (entry.inline) {
          // A here-document: a new file, 0644 as BuildKit makes it.
          await builder.add(
            {
              path: entry.target,
              type: 'file',
              mode: chmod ?? 0o644,
              uid: owner.uid,
              gid: owner.gid,
              mtime: 0,
              size: entry.inline.length,
            },
            entry.inline,
          );
          continue;
        }
        const stats = fs.lstatSync(entry.host);
        const common = {
          path: entry.target,
          mode: chmod ?? stats.mode & 0o7777,
          uid: owner.uid,
          gid: owner.gid,
          mtime: Math.floor(stats.mtimeMs / 1000),
        };
        const type = entryType(stats);
        const inode = `${stats.dev}:${stats.ino}`;
        const firstLink = type === 'file' && stats.nlink > 1 ? linked.get(inode) : undefined;
        if (firstLink !== undefined) {
          // Hard links between files of the context stay hard links (buildah and BuildKit keep them).
          await builder.add({ ...common, type: 'hardlink', linkPath: firstLink });
        } else if (type === 'file') {
          const written = await builder.add(
            { ...common, type: 'file', size: stats.size },
            fs.createReadStream(entry.host, { highWaterMark: 1 << 20 }),
          );
          if (stats.nlink > 1) linked.set(inode, written.slice(1));
        } else if (type === 'symlink') {
          await builder.add({
            ...common,
            mode: 0o777,
            type: 'symlink',
            linkPath: fs.readlinkSync(entry.host),
          });
        } else if (type === 'directory') {
          await builder.add({ ...common, type: 'directory' });
        } else if (type === 'fifo') {
          await builder.add({ ...common, type: 'fifo' });
        }
      }
    },
  };
}
