/**
 * Docker's copy of an image's content into a volume the first time a container mounts it
 * (daemon.populateVolume / CopyImagePathContent): when the volume is empty, what the image has at
 * the mount's destination is copied in with owners, modes, times, symlinks, device nodes and hard
 * links kept, and the volume's top directory takes the owner and mode of the image's directory.
 *
 * The image is read without mounting it (StackView: overlayfs's rules over the layer
 * directories, symlinks resolved inside the image), file content through descriptors opened
 * inside the layer with no symlink allowed on the way; the volume is written through
 * TreeWriter, which never follows a symlink, so a volume another running container is planting
 * links in meanwhile still cannot send a write to the host.
 */
import fs from 'node:fs';
import { DirectoryHandle, openInRoot, openRoot } from '../in-root.js';
import { StackView, type StackEntry } from '../images/diff/stack-view.js';
import { trace } from '../trace.js';
import { TreeWriter, type EntryMetadata } from './tree-writer.js';

const { O_RDONLY, O_NOFOLLOW, O_DIRECTORY } = fs.constants;

/** The major and minor numbers of a device number (glibc's gnu_dev_major/minor). */
export function splitDeviceNumber(rdev: number): { major: number; minor: number } {
  const high = Math.floor(rdev / 2 ** 32);
  const low = rdev % 2 ** 32;
  return {
    major: ((low >>> 8) & 0xfff) | ((high & 0xfffff000) >>> 0),
    minor: (low & 0xff) | ((low >>> 12) & 0xfff00),
  };
}

function metadataOf(stats: fs.Stats): EntryMetadata {
  return {
    mode: stats.mode & 0o7777,
    uid: stats.uid,
    gid: stats.gid,
    mtime: stats.mtimeMs / 1000,
    atime: stats.atimeMs / 1000,
  };
}

class LayerFiles {
  private readonly roots = new Map<string, number>();

  /** Opens a file of the stack for reading from its own layer, no symlink allowed on the way. */
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

/**
 * Copies what the image (layer directories, bottom first) has at `imagePath` into the volume
 * directory `dataPath` if that is empty. Returns whether anything was copied.
 */
export async function prefillVolume(
  layerDirs: readonly string[],
  imagePath: string,
  dataPath: string,
): Promise<boolean> {
  const view = new StackView(layerDirs.filter((layer) => fs.existsSync(layer)));
  if (view.empty) return false;
  const { entry } = view.resolve(imagePath, { followFinal: true });
  if (!entry || !entry.stats.isDirectory()) return false;
  const top = DirectoryHandle.open(dataPath);
  const files = new LayerFiles();
  try {
    if (top.names().length > 0) return false;
    const writer = new TreeWriter({ chown: true });
    /** First copy of each hard-linked inode of the image: where it was written. */
    const links = new Map<string, { parent: DirectoryHandle; name: string }>();
    const opened: DirectoryHandle[] = [];
    const copyDirectory = async (source: StackEntry, target: DirectoryHandle): Promise<void> => {
      const children = [...view.list(source).values()].sort((a, b) => (a.path < b.path ? -1 : 1));
      for (const child of children) {
        const name = child.path.slice(child.path.lastIndexOf('/') + 1);
        const stats = child.stats;
        const metadata = metadataOf(stats);
        if (stats.isDirectory()) {
          const directory = writer.directory(target, name);
          try {
            await copyDirectory(child, directory);
            writer.finishDirectory(directory, metadata);
          } finally {
            directory.close();
          }
          continue;
        }
        const key = `${stats.dev}:${stats.ino}`;
        const first = stats.nlink > 1 ? links.get(key) : undefined;
        if (first) {
          writer.hardlink(target, name, first.parent, first.name);
          continue;
        }
        if (stats.isFile()) {
          const fd = files.open(child);
          try {
            writer.fileFromDescriptor(target, name, metadata, fd);
          } finally {
            fs.closeSync(fd);
          }
        } else if (stats.isSymbolicLink()) {
          writer.symlink(target, name, fs.readlinkSync(child.file), metadata);
        } else if (stats.isCharacterDevice() || stats.isBlockDevice() || stats.isFIFO()) {
          const type = stats.isFIFO() ? 'fifo' : stats.isCharacterDevice() ? 'char' : 'block';
          const { major, minor } = splitDeviceNumber(stats.rdev);
          writer.node(target, name, type, metadata, major, minor);
        } else {
          continue; // sockets are not copied (docker's tar skips them too)
        }
        if (stats.nlink > 1) {
          // The directory handle must outlive this walk for later links to it.
          const keep = DirectoryHandle.fromDescriptor(
            fs.openSync(`/proc/self/fd/${target.fd}`, O_RDONLY | O_DIRECTORY),
            target.path,
          );
          opened.push(keep);
          links.set(key, { parent: keep, name });
        }
      }
    };
    try {
      await copyDirectory(entry, top);
    } finally {
      for (const handle of opened) handle.close();
    }
    // docker's copyOwnership: the volume's top directory becomes what the image's directory was.
    writer.finishDirectory(top, metadataOf(entry.stats));
    trace(`volume pre-filled from ${imagePath}`);
    return true;
  } finally {
    files.close();
    top.close();
  }
}
