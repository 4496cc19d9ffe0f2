/**
 * Docker's copy of an image's content into a volume the first time a container mounts it
 * (daemon.populateVolume / CopyImagePathContent): when the volume is empty, what the image has at
 * the mount's destination is copied in with owners, modes, times, symlinks, device nodes and hard
 * links kept, and the volume's top directory takes the owner and mode of the image's directory.
 *
 * The image is read by StackCopier (the copier COPY --from uses too: no mount, symlinks resolved
 * inside the image, file content through descriptors opened inside the layer with no symlink
 * allowed on the way); the volume is written through TreeWriter, which never follows a symlink,
 * so a volume another running container is planting links in meanwhile still cannot send a write
 * to the host.
 */
import fs from 'node:fs';
import { StackCopier, type StackCopySink } from '../images/diff/stack-copy.js';
import { StackView, type StackEntry } from '../images/diff/stack-view.js';
import { DirectoryHandle } from '../in-root.js';
import { trace } from '../trace.js';
import { TreeWriter, type EntryMetadata } from './tree-writer.js';

const { O_RDONLY, O_DIRECTORY } = fs.constants;

function metadataOf(stats: fs.Stats): EntryMetadata {
  return {
    mode: stats.mode & 0o7777,
    uid: stats.uid,
    gid: stats.gid,
    mtime: stats.mtimeMs / 1000,
    atime: stats.atimeMs / 1000,
  };
}

/** Where a hard-linked inode was first written in the volume. */
interface WrittenEntry {
  parent: DirectoryHandle;
  name: string;
}

/**
 * A sink writing into the volume through `writer`. Directory handles that later hard links need
 * are kept open in `opened` until the copy ends.
 */
function volumeSink(
  writer: TreeWriter,
  opened: DirectoryHandle[],
): StackCopySink<DirectoryHandle, WrittenEntry> {
  const written = (parent: DirectoryHandle, name: string, entry: StackEntry): WrittenEntry | undefined => {
    if (entry.stats.nlink <= 1) return undefined;
    // The directory handle must outlive this walk for later links to it.
    const keep = DirectoryHandle.fromDescriptor(
      fs.openSync(`/proc/self/fd/${parent.fd}`, O_RDONLY | O_DIRECTORY),
      parent.path,
    );
    opened.push(keep);
    return { parent: keep, name };
  };
  return {
    async directory(parent, name, entry, copyChildren) {
      const directory = writer.directory(parent, name);
      try {
        await copyChildren(directory);
        writer.finishDirectory(directory, metadataOf(entry.stats));
      } finally {
        directory.close();
      }
    },
    async file(parent, name, entry, fd) {
      try {
        writer.fileFromDescriptor(parent, name, metadataOf(entry.stats), fd);
      } finally {
        fs.closeSync(fd);
      }
      return written(parent, name, entry);
    },
    async symlink(parent, name, entry, linkTarget) {
      writer.symlink(parent, name, linkTarget, metadataOf(entry.stats));
      return written(parent, name, entry);
    },
    async node(parent, name, entry, type, { major, minor }) {
      writer.node(parent, name, type, metadataOf(entry.stats), major, minor);
      return written(parent, name, entry);
    },
    async hardlink(parent, name, _entry, first) {
      writer.hardlink(parent, name, first.parent, first.name);
    },
  };
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
  const opened: DirectoryHandle[] = [];
  const writer = new TreeWriter({ chown: true });
  const copier = new StackCopier(view, volumeSink(writer, opened));
  try {
    if (top.names().length > 0) return false;
    try {
      await copier.copyChildren(entry, top);
    } finally {
      for (const handle of opened) handle.close();
    }
    // docker's copyOwnership: the volume's top directory becomes what the image's directory was.
    writer.finishDirectory(top, metadataOf(entry.stats));
    trace(`volume pre-filled from ${imagePath}`);
    return true;
  } finally {
    copier.close();
    top.close();
  }
}
