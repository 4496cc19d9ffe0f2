/**
 * LayerTreeSource over the store's unpacked layers: reads layer sizes and instructions from the
 * image record and config, and walks layer directories (overlay format: whiteouts are 0/0
 * character devices, opaque directories carry trusted.overlay.opaque=y) when a tree or the
 * efficiency is asked for. Image layers never change, so their walks are cached by directory;
 * a container's writable layer is walked afresh each time.
 */
import type { Dirent } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError } from '../../runtime/errors.js';
import type { ImageRecord } from '../../runtime/images/types.js';
import { lgetxattr } from '../../runtime/sys/libc.js';
import type { TuiEngine } from '../engine-adapter.js';
import { tidyInstruction } from '../format.js';
import {
  aggregatedTree,
  analyzeLayers,
  changeTree,
  mergeLayers,
  type LayerEntries,
  type LayerEntry,
} from './layer-entries.js';
import type {
  FileNode,
  LayerAnalysis,
  LayerInfo,
  LayerStack,
  LayerSubject,
  LayerTreeSource,
} from './layer-tree-source.js';

const OPAQUE_XATTR = 'trusted.overlay.opaque';
const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';

/** Reads the opaque marker; a file system without trusted xattrs has none. */
export type OpaqueProbe = (directory: string) => boolean;

const probeOpaque: OpaqueProbe = (directory) => {
  try {
    return lgetxattr(directory, OPAQUE_XATTR)?.toString() === 'y';
  } catch {
    return false;
  }
};

/** Walks one layer directory into flat entries keyed by absolute path inside the image. */
export async function walkLayer(
  directory: string,
  isOpaque: OpaqueProbe = probeOpaque,
): Promise<LayerEntries> {
  const entries: LayerEntries = new Map();
  const visit = async (relative: string): Promise<void> => {
    const absolute = path.join(directory, relative);
    let listing: Dirent[];
    try {
      listing = await fsp.readdir(absolute, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && relative !== '') return;
      throw error;
    }
    for (const dirent of listing) {
      const inner = path.posix.join('/', relative, dirent.name);
      const full = path.join(absolute, dirent.name);
      // Tar-style markers, in case a layer was unpacked without converting them.
      if (dirent.name === OPAQUE_MARKER) {
        const parent = path.posix.dirname(inner);
        const existing = entries.get(parent);
        if (existing) existing.opaque = true;
        continue;
      }
      if (dirent.name.startsWith(WHITEOUT_PREFIX)) {
        entries.set(path.posix.join(path.posix.dirname(inner), dirent.name.slice(WHITEOUT_PREFIX.length)), {
          kind: 'file',
          size: 0,
          whiteout: true,
        });
        continue;
      }
      if (dirent.isDirectory()) {
        const entry: LayerEntry = { kind: 'directory', size: 0 };
        if (isOpaque(full)) entry.opaque = true;
        entries.set(inner, entry);
        await visit(path.posix.join(relative, dirent.name));
        continue;
      }
      const stats = await fsp.lstat(full).catch(() => undefined);
      if (!stats) continue;
      if (stats.isCharacterDevice() && stats.rdev === 0) {
        entries.set(inner, { kind: 'file', size: 0, whiteout: true });
      } else if (stats.isSymbolicLink()) {
        entries.set(inner, {
          kind: 'symlink',
          size: stats.size,
          linkTarget: await fsp.readlink(full).catch(() => ''),
        });
      } else {
        entries.set(inner, {
          kind: stats.isFile() ? 'file' : 'other',
          size: stats.isFile() ? stats.size : 0,
        });
      }
    }
  };
  await visit('');
  return entries;
}

function layerSize(entries: LayerEntries): number {
  let total = 0;
  for (const entry of entries.values())
    if (!entry.whiteout && entry.kind !== 'directory') total += entry.size;
  return total;
}

interface ResolvedStack {
  stack: LayerStack;
  /** Directory of each layer, in stack order. */
  directories: string[];
}

export class FsLayerTreeSource implements LayerTreeSource {
  private readonly walks = new Map<string, Promise<LayerEntries>>();

  constructor(
    private readonly engine: TuiEngine,
    private readonly isOpaque: OpaqueProbe = probeOpaque,
  ) {}

  private async image(id: string): Promise<ImageRecord> {
    const image = (await this.engine.images.list()).find((record) => record.id === id);
    if (!image) throw new NotFoundError(`image ${id.replace(/^sha256:/, '').slice(0, 12)} is gone`);
    return image;
  }

  private async imageLayers(image: ImageRecord): Promise<LayerInfo[]> {
    const config = await this.engine.images.readConfig(image).catch(() => undefined);
    const history = (config?.history ?? []).filter((entry) => !entry.empty_layer);
    return image.layers.map((layer, index) => {
      const entry = history[index];
      const info: LayerInfo = {
        index,
        digest: layer.diffId,
        size: layer.size,
        createdBy: tidyInstruction(entry?.created_by) || entry?.comment || '(no history)',
      };
      if (entry?.created) info.created = entry.created;
      return info;
    });
  }

  private async resolve(subject: LayerSubject): Promise<ResolvedStack> {
    if (subject.kind === 'image') {
      const image = await this.image(subject.id);
      const layers = await this.imageLayers(image);
      const directories = image.layers.map((layer) => this.engine.images.layerDir(layer.chainId));
      return {
        stack: { subject, layers, totalBytes: layers.reduce((sum, layer) => sum + layer.size, 0) },
        directories,
      };
    }
    const record = await this.engine.get(subject.id);
    const image = await this.image(record.Image).catch(() => undefined);
    const imageLayers = image ? await this.imageLayers(image) : [];
    const layers: LayerInfo[] = record.LayerDirs.map(
      (directory, index) =>
        imageLayers[index] ?? {
          index,
          digest: path.basename(path.dirname(directory)),
          size: 0,
          createdBy: '(image layer)',
        },
    );
    const upper = this.engine.upperDir(record.Id);
    const upperEntries = await walkLayer(upper, this.isOpaque);
    layers.push({
      index: layers.length,
      digest: 'live',
      size: layerSize(upperEntries),
      createdBy: `writable layer of ${record.Name} (live)`,
      live: true,
    });
    return {
      stack: { subject, layers, totalBytes: layers.reduce((sum, layer) => sum + layer.size, 0) },
      directories: [...record.LayerDirs, upper],
    };
  }

  private walk(directory: string, live: boolean): Promise<LayerEntries> {
    if (live) return walkLayer(directory, this.isOpaque);
    let walk = this.walks.get(directory);
    if (!walk) {
      walk = walkLayer(directory, this.isOpaque);
      walk.catch(() => this.walks.delete(directory));
      this.walks.set(directory, walk);
    }
    return walk;
  }

  private async allEntries(resolved: ResolvedStack, upTo: number): Promise<LayerEntries[]> {
    const walks: LayerEntries[] = [];
    for (let index = 0; index <= upTo; index += 1) {
      walks.push(await this.walk(resolved.directories[index]!, resolved.stack.layers[index]?.live === true));
    }
    return walks;
  }

  async stack(subject: LayerSubject): Promise<LayerStack> {
    return (await this.resolve(subject)).stack;
  }

  async analyze(subject: LayerSubject): Promise<LayerAnalysis> {
    const resolved = await this.resolve(subject);
    return analyzeLayers(await this.allEntries(resolved, resolved.directories.length - 1));
  }

  async tree(
    subject: LayerSubject,
    index: number,
    options: { aggregated?: boolean } = {},
  ): Promise<FileNode> {
    const resolved = await this.resolve(subject);
    if (index < 0 || index >= resolved.directories.length)
      throw new NotFoundError(`layer ${index + 1} does not exist`);
    const walks = await this.allEntries(resolved, index);
    const lower = mergeLayers(walks.slice(0, index));
    const own = walks[index]!;
    return options.aggregated ? aggregatedTree(lower, own) : changeTree(lower, own);
  }
}
