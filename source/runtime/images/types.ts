/**
 * The image model the rest of the runtime sees. The store (store.ts) keeps OCI blobs by digest,
 * unpacked layers by ChainID and one record per image; containers ask it for a config and the
 * list of read-only layer directories to stack under their own writable layer.
 */

/** docker's HealthConfig as a container keeps it (--health-* flags over the image's). */
export type HealthConfig = ImageHealthcheck;

/** The part of an OCI image config (`config` member) a container needs. */
export interface ImageRuntimeConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  /** docker's HEALTHCHECK (not part of the OCI spec; docker, buildah and podman write it). */
  Healthcheck?: ImageHealthcheck;
  /** docker's ONBUILD triggers: instructions run by a build FROM this image. */
  OnBuild?: string[] | null;
  /** docker's SHELL: the shell form's command prefix for builds FROM this image. */
  Shell?: string[];
}

/** docker's HealthConfig: durations in nanoseconds; absent or 0 means the runtime's default. */
export interface ImageHealthcheck {
  /** ["CMD", arg...], ["CMD-SHELL", command], ["NONE"] (disabled), or [] (inherit). */
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface ImageHistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** OCI image configuration (application/vnd.oci.image.config.v1+json). */
export interface OciImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: ImageRuntimeConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: ImageHistoryEntry[];
}

export interface LayerRecord {
  /** sha256 of the uncompressed layer tar. */
  diffId: string;
  /** ChainID: identity of this layer on top of its parents. */
  chainId: string;
  /** ChainID of the parent, absent for the bottom layer. */
  parent?: string;
  /** Digest and size of the compressed blob as stored/exported. */
  blobDigest: string;
  blobSize: number;
  blobMediaType: string;
  /** Bytes of the unpacked content. */
  size: number;
}

export interface ImageRecord {
  /** Image ID: the config digest, "sha256:<hex>". */
  id: string;
  /** Repository tags, e.g. ["busybox:latest"]. */
  names: string[];
  manifestDigest: string;
  /**
   * What a registry knows this image by, as "repository@sha256:…" (docker's RepoDigests): the
   * manifest and, for a multi-platform pull, the index it was picked from. An image pulled by
   * digest alone has no name but these, and is not dangling.
   */
  digests?: string[];
  configDigest: string;
  /** Layers bottom first. */
  layers: LayerRecord[];
  /** Creation time from the config, or import time. */
  created: string;
  /** Sum of the unpacked layer sizes. */
  size: number;
}

/** What a container needs from its image. */
export interface ResolvedImage {
  record: ImageRecord;
  config: OciImageConfig;
  /** Absolute paths of the unpacked layer directories, bottom first. */
  layerDirs: string[];
}
