/**
 * A small working image built from the host's own binaries, with no network: a static busybox
 * and its applets when the host has one, else /bin/sh and a set of coreutils with the shared
 * libraries they load (found by reading their ELF headers) at the paths the loader expects.
 *
 * The result goes through the same path as any import (an OCI layout in a work directory), so it
 * is a real OCI image. Every timestamp is fixed and entries are sorted, so building twice on the
 * same host gives the same layer digest, the same image ID, and shares the layer.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { hasCode, UnsupportedError } from '../errors.js';
import { digestFileRange, digestHex } from './digest.js';
import { isElf, parseElf, type ElfInfo } from './elf.js';
import { hostPlatform } from './import/platform.js';
import type { ImageStore } from './store.js';
import { writeSingleLayerLayout } from './single-layer-layout.js';
import { TarWriter } from './tar/writer.js';
import type { ImageRecord, OciImageConfig } from './types.js';

export interface FromHostOptions {
  /** "busybox" or "binaries" to force one strategy; "auto" (default) prefers busybox. */
  strategy?: 'auto' | 'busybox' | 'binaries';
}

export const FROM_HOST_CREATED_BY = 'gantry image from-host';
const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];
const BINARY_DIRECTORIES = ['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin'];
/** What a shell session in a debugging container reaches for; missing ones are skipped. */
const HOST_BINARIES = (
  'ls cat echo true false sleep env id ps hostname mkdir rmdir rm cp mv ln touch chmod chown head tail wc ' +
  'grep sed sort uniq cut tr tee printf test pwd uname date basename dirname readlink stat find xargs kill ' +
  'df du expr seq yes whoami'
).split(' ');
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const FIXED_TIME = '1970-01-01T00:00:00Z';
/** Directories the loader searches without ld.so.cache (glibc's built-in system directories). */
const LOADER_DEFAULT_DIRECTORY = /^\/(usr\/)?lib(64|32)?(\/[a-z0-9_]+-linux-[a-z0-9_]+)?$/;

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\nnogroup:x:65534:\n';

type TreeNode =
  | { type: 'directory'; mode: number }
  | { type: 'file'; mode: number; source: string; size: number }
  | { type: 'file'; mode: number; content: Buffer }
  | { type: 'symlink'; target: string };

/** The image's file tree, by path without a leading "/". */
class ImageTree {
  readonly nodes = new Map<string, TreeNode>();

  directory(name: string, mode = 0o755): void {
    const parts = name.split('/').filter(Boolean);
    for (let index = 1; index <= parts.length; index += 1) {
      const prefix = parts.slice(0, index).join('/');
      if (!this.nodes.has(prefix))
        this.nodes.set(prefix, { type: 'directory', mode: index === parts.length ? mode : 0o755 });
    }
  }

  add(name: string, node: TreeNode): void {
    const relative = name.replace(/^\/+/, '');
    if (this.nodes.has(relative)) return;
    this.directory(path.posix.dirname(relative));
    this.nodes.set(relative, node);
  }

  /** Copies a host file (its content, following symlinks) to `name`. */
  async copy(hostFile: string, name: string, mode?: number): Promise<void> {
    const stats = await fsp.stat(hostFile);
    this.add(name, {
      type: 'file',
      mode: mode ?? stats.mode & 0o777,
      source: await fsp.realpath(hostFile),
      size: stats.size,
    });
  }
}

async function readElf(file: string): Promise<ElfInfo | undefined> {
  const data = await fsp.readFile(file);
  return isElf(data) ? parseElf(data, file) : undefined;
}

async function isRegularFile(file: string): Promise<boolean> {
  try {
    return (await fsp.stat(file)).isFile();
  } catch (error) {
    if (hasCode(error, 'ENOENT') || hasCode(error, 'ENOTDIR') || hasCode(error, 'EACCES')) return false;
    throw error;
  }
}

/** Library directories from /etc/ld.so.conf (and its includes), then the usual defaults. */
async function librarySearchPath(): Promise<string[]> {
  const directories: string[] = [];
  const seen = new Set<string>();
  const readConf = async (file: string, depth: number): Promise<void> => {
    if (depth > 4 || seen.has(file)) return;
    seen.add(file);
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch {
      return;
    }
    for (const rawLine of text.split('\n')) {
      const line = rawLine.replace(/#.*/, '').trim();
      if (line === '') continue;
      const include = /^include\s+(.+)$/.exec(line);
      if (include) {
        const pattern = include[1] as string;
        const directory = path.dirname(pattern);
        const glob = new RegExp(
          `^${path
            .basename(pattern)
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '.*')
            .replace(/\?/g, '.')}$`,
        );
        const names = await fsp.readdir(directory).catch(() => [] as string[]);
        for (const name of names.sort())
          if (glob.test(name)) await readConf(path.join(directory, name), depth + 1);
      } else if (line.startsWith('/')) {
        directories.push(line);
      }
    }
  };
  await readConf('/etc/ld.so.conf', 0);
  directories.push('/lib64', '/usr/lib64', '/lib', '/usr/lib');
  return [...new Set(directories)];
}

/** Adds a dynamically linked program's loader and every library it needs, transitively. */
async function addSharedLibraries(
  tree: ImageTree,
  program: string,
  elf: ElfInfo,
  libraryDirectories: Set<string>,
): Promise<void> {
  const searchPath = await librarySearchPath();
  const queue: Array<{ file: string; elf: ElfInfo }> = [{ file: program, elf }];
  const done = new Set<string>();
  while (queue.length > 0) {
    const { file, elf: current } = queue.shift() as { file: string; elf: ElfInfo };
    if (current.interpreter && !done.has(current.interpreter)) {
      done.add(current.interpreter);
      // The loader path is compiled into every binary: it must exist at exactly that path.
      await tree.copy(current.interpreter, current.interpreter, 0o755);
    }
    const origin = path.dirname(file);
    const expand = (directory: string): string => directory.replace(/\$\{?ORIGIN\}?/g, origin);
    const directories = [
      ...(current.runpath.length === 0 ? current.rpath.map(expand) : []),
      ...current.runpath.map(expand),
      ...searchPath,
    ];
    for (const soname of current.needed) {
      if (done.has(soname)) continue;
      done.add(soname);
      let found: { file: string; elf: ElfInfo } | undefined;
      for (const directory of soname.includes('/') ? [''] : directories) {
        const candidate = soname.includes('/') ? soname : path.join(directory, soname);
        if (!(await isRegularFile(candidate))) continue;
        const candidateElf = await readElf(candidate);
        // A 32-bit or foreign-architecture library of the same name is not the one the loader takes.
        if (candidateElf && candidateElf.machine === elf.machine && candidateElf.bits === elf.bits) {
          found = { file: candidate, elf: candidateElf };
          break;
        }
      }
      if (!found) {
        throw new UnsupportedError(
          `cannot build an image from the host: ${file} needs ${soname}, which was not found`,
        );
      }
      await tree.copy(found.file, found.file, 0o755);
      libraryDirectories.add(path.dirname(found.file));
      queue.push(found);
    }
  }
}

async function findBusybox(): Promise<string | undefined> {
  for (const candidate of BUSYBOX_CANDIDATES) if (await isRegularFile(candidate)) return candidate;
  return undefined;
}

async function findBinary(name: string): Promise<string | undefined> {
  for (const directory of BINARY_DIRECTORIES) {
    const candidate = path.join(directory, name);
    if (await isRegularFile(candidate)) return candidate;
  }
  return undefined;
}

function addBaseFiles(tree: ImageTree): void {
  for (const directory of ['bin', 'dev', 'etc', 'home', 'proc', 'sys', 'usr/bin', 'var'])
    tree.directory(directory);
  tree.directory('root', 0o700);
  tree.directory('tmp', 0o1777);
  tree.directory('var/tmp', 0o1777);
  tree.add('etc/passwd', { type: 'file', mode: 0o644, content: Buffer.from(PASSWD) });
  tree.add('etc/group', { type: 'file', mode: 0o644, content: Buffer.from(GROUP) });
}

/** Busybox and a symlink per applet. Returns a description for the history entry. */
async function addBusybox(
  tree: ImageTree,
  busybox: string,
  libraryDirectories: Set<string>,
): Promise<string> {
  const elf = await readElf(busybox);
  if (!elf) throw new UnsupportedError(`${busybox} is not an ELF executable`);
  await tree.copy(busybox, 'bin/busybox', 0o755);
  if (!elf.isStatic) await addSharedLibraries(tree, busybox, elf, libraryDirectories);
  const { stdout } = await promisify(execFile)(busybox, ['--list'], { timeout: 10_000 });
  for (const applet of stdout.split('\n').map((line) => line.trim())) {
    if (applet === '' || applet === 'busybox' || applet.includes('/')) continue;
    tree.add(`bin/${applet}`, { type: 'symlink', target: 'busybox' });
  }
  return `busybox from ${busybox}${elf.isStatic ? '' : ' with its shared libraries'}`;
}

async function addHostBinaries(tree: ImageTree, libraryDirectories: Set<string>): Promise<string> {
  if (!(await isRegularFile('/bin/sh'))) {
    throw new UnsupportedError('cannot build an image from the host: it has neither busybox nor /bin/sh');
  }
  const copied: string[] = [];
  for (const [name, hostFile] of [
    ['sh', '/bin/sh'],
    ...(await Promise.all(HOST_BINARIES.map(async (binary) => [binary, await findBinary(binary)] as const))),
  ] as Array<readonly [string, string | undefined]>) {
    if (hostFile === undefined) continue;
    const elf = await readElf(hostFile);
    // Scripts (a shell wrapper for "which", say) are not worth their interpreters here.
    if (!elf) continue;
    await tree.copy(hostFile, `bin/${name}`, 0o755);
    if (!elf.isStatic) await addSharedLibraries(tree, hostFile, elf, libraryDirectories);
    copied.push(name);
  }
  return `host binaries: ${copied.join(' ')} (shell ${await fsp.realpath('/bin/sh')})`;
}

async function writeLayer(tree: ImageTree, file: string): Promise<void> {
  const output = fs.createWriteStream(file, { flags: 'wx' });
  const writer = new TarWriter(output);
  try {
    for (const name of [...tree.nodes.keys()].sort()) {
      const node = tree.nodes.get(name) as TreeNode;
      const common = { path: name, uid: 0, gid: 0, mtime: 0 };
      if (node.type === 'directory') await writer.add({ ...common, type: 'directory', mode: node.mode });
      else if (node.type === 'symlink')
        await writer.add({ ...common, type: 'symlink', linkPath: node.target });
      else if ('content' in node)
        await writer.add({ ...common, type: 'file', mode: node.mode }, node.content);
      else {
        await writer.add(
          { ...common, type: 'file', mode: node.mode, size: node.size },
          fs.createReadStream(node.source, { highWaterMark: 1 << 20 }),
        );
      }
    }
    await writer.finish();
  } catch (error) {
    output.destroy();
    throw error;
  }
}

/** Builds the image and imports it into `store` under `name`. */
export async function fromHost(
  store: ImageStore,
  name: string,
  options: FromHostOptions = {},
): Promise<ImageRecord> {
  const strategy = options.strategy ?? 'auto';
  const tree = new ImageTree();
  addBaseFiles(tree);
  const libraryDirectories = new Set<string>();
  const busybox = strategy === 'binaries' ? undefined : await findBusybox();
  if (strategy === 'busybox' && !busybox) {
    throw new UnsupportedError(`no busybox on this host (looked for ${BUSYBOX_CANDIDATES.join(', ')})`, {
      hint: 'install busybox-static, or build from the host binaries instead',
    });
  }
  const description = busybox
    ? await addBusybox(tree, busybox, libraryDirectories)
    : await addHostBinaries(tree, libraryDirectories);

  const env = [PATH_ENV];
  const extraLibraryDirectories = [...libraryDirectories].filter(
    (directory) => !LOADER_DEFAULT_DIRECTORY.test(directory),
  );
  if (extraLibraryDirectories.length > 0)
    env.push(`LD_LIBRARY_PATH=${extraLibraryDirectories.sort().join(':')}`);

  const work = await store.createWorkDirectory('build');
  try {
    const layoutDirectory = path.join(work.path, 'oci');
    await fsp.mkdir(path.join(layoutDirectory, 'blobs', 'sha256'), { recursive: true });
    const layerFile = path.join(work.path, 'layer.tar');
    await writeLayer(tree, layerFile);
    const layer = await digestFileRange(layerFile);
    await fsp.rename(layerFile, path.join(layoutDirectory, 'blobs', 'sha256', digestHex(layer.digest)));

    const platform = hostPlatform();
    const config: OciImageConfig = {
      created: FIXED_TIME,
      architecture: platform.architecture,
      ...(platform.variant ? { variant: platform.variant } : {}),
      os: 'linux',
      config: { Env: env, Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
      history: [{ created: FIXED_TIME, created_by: FROM_HOST_CREATED_BY, comment: description }],
    };
    await writeSingleLayerLayout(layoutDirectory, config, layer);
    // The config's time stays fixed (the digest is reproducible); the record says when it was made.
    const [record] = await store.import(layoutDirectory, { name, created: new Date().toISOString() });
    return record as ImageRecord;
  } finally {
    await work.dispose();
  }
}
