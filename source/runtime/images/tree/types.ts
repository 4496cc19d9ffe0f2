/**
 * The layer tree of an image or a container: what every layer added, modified and removed, and
 * what the stack wastes. Produced by `layerTree()` (tree/layer-tree.ts) from the unpacked layer
 * directories; consumed by `gantry image tree`, `gantry image history` and the TUI's Layers pane.
 * These names are an API: change them only together with their consumers.
 */

/** How a path in a layer relates to the layers below it. */
export type ChangeKind =
  /** No lower layer had the path. */
  | 'added'
  /** A lower layer had the path; this layer replaces it (content, metadata or type). */
  | 'modified'
  /** A whiteout, an opaque directory or a type change hides the lower path. */
  | 'removed'
  /** A directory that is only here because something beneath it changed. */
  | 'unchanged';

/**
 * What a modification changed, against the copy below: the bytes (size or modification time
 * differ), the permission bits, the owner, or what the path is. A chmod-only change is `mode`.
 */
export type ModifyReason = 'content' | 'mode' | 'owner' | 'type';

/** What a path is. `hardlink` is a further name of a file already counted in the same layer. */
export type FileType = 'directory' | 'file' | 'symlink' | 'hardlink' | 'other';

/** One path of a layer's change tree. */
export interface FileNode {
  /** Last path component; "" for the root. */
  name: string;
  /** Absolute path inside the image; "/" for the root. */
  path: string;
  type: FileType;
  kind: ChangeKind;
  /**
   * Bytes. A file: its size (0 for a symlink, a device, or a further hard link). A removed
   * path: the bytes that were visible there before this layer. A directory: the bytes this
   * layer stores beneath it (removed children are not counted).
   */
  size: number;
  /** Target of a symlink (or the first name of a hard-linked file). */
  linkTarget?: string;
  /** The directory hides everything a lower layer had beneath it (overlay opaque directory). */
  opaque?: boolean;
  /** Permission bits (st_mode & 07777) of this layer's copy; not set for a removed path. */
  mode?: number;
  uid?: number;
  gid?: number;
  /** For a `modified` path: what differs from the copy below. */
  reasons?: ModifyReason[];
  /** For a `modified` path: the copy below's permission bits and owner. */
  previous?: { mode: number; uid: number; gid: number };
  /** A directory's changed entries, sorted by name (byte order). Removed paths have none. */
  children?: FileNode[];
}

/** Counts of one layer's changes; directories are counted when they are added or removed. */
export interface LayerChangeSummary {
  added: number;
  modified: number;
  removed: number;
  /** Bytes of the files this layer adds / replaces / hides. */
  addedBytes: number;
  modifiedBytes: number;
  removedBytes: number;
}

/** One layer of the stack, bottom first. */
export interface TreeLayer {
  /** Position in the stack, 0 = bottom. */
  index: number;
  /** diff_id (sha256 of the uncompressed layer tar); "" for a container's live layer. */
  digest: string;
  /** ChainID (this layer with everything below); "" for a container's live layer. */
  chainId: string;
  /** Bytes of file content the layer stores (for the live layer: measured now). */
  size: number;
  /** Bytes of the compressed blob, when there is one. */
  blobSize?: number;
  /** The instruction that made the layer (image history "created_by"); "" when unknown. */
  createdBy: string;
  created?: string;
  comment?: string;
  /** A container's writable layer: it changes while the container runs. */
  live?: boolean;
  summary: LayerChangeSummary;
  /** The layer's own changes as a tree rooted at "/" (omitted with `changes: false`). */
  changes?: FileNode;
}

/** A path stored more than once across the stack, or stored and removed later. */
export interface Inefficiency {
  path: string;
  /** Layers that touch the path: store a copy, or remove it. */
  count: number;
  /** Bytes of every copy together (dive's "cumulative size"). */
  cumulativeBytes: number;
  /** Bytes of every copy but the smallest: what a better stack would not store. */
  wastedBytes: number;
  /** Indexes of the layers that touch the path, bottom first. */
  layers: number[];
}

export interface LayerTree {
  subject: { kind: 'image' | 'container'; id: string; names: string[] };
  layers: TreeLayer[];
  /** Sum of the layer sizes. */
  totalBytes: number;
  /** Sum of the layer sizes above the first (base) layer, as dive's "user size". */
  userBytes: number;
  /**
   * 0..1, dive's score: for every path, the bytes of its smallest copy, over the bytes of all
   * its copies, summed over all paths. A removal counts as a copy of 0 bytes. Equal to
   * 1 - wastedBytes / (bytes of all copies).
   */
  efficiency: number;
  /**
   * Bytes of all copies but the smallest of every path stored more than once (dive counts
   * every copy, the surviving one included). A file removed later wastes its whole size;
   * removals by opaque directories count too (dive ignores them).
   */
  wastedBytes: number;
  /** wastedBytes over userBytes, in percent (dive's CI metric); 0 when userBytes is 0. */
  userWastedPercent: number;
  /** Largest wastedBytes first. */
  inefficiencies: Inefficiency[];
}

export interface LayerTreeOptions {
  /**
   * A container's writable layer (its overlay upperdir) to stack on top of the image's layers
   * as a live layer.
   */
  containerUpper?: string;
  /** With containerUpper: its runtime mount destinations (empty stubs there are skipped). */
  mountpoints?: Iterable<string>;
  /** Identity of the container, for `subject`. */
  container?: { id: string; name: string };
  /** Build the per-layer change trees (default true); false computes only sizes and waste. */
  changes?: boolean;
}
