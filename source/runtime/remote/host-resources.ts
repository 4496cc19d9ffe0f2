/**
 * The image, volume and network operations a command may ask of any host, on this machine's
 * engine: what `gantry system service --stdio` runs for a remote client's `image tree`, `rmi`,
 * `pull`, `volume ls` and `network ls`. Every answer is plain JSON (the protocol carries it as it
 * is); filtering and printing stay with the command, on the client's side.
 */
import type { Readable } from 'node:stream';
import type { CopySource } from '../containers/copy/copy.js';
import type { Engine } from '../containers/engine.js';
import type { Platform } from '../images/import/platform.js';
import type { Credentials } from '../images/registry/auth-file.js';
import type { TransferEvent } from '../images/registry/transfer.js';
import type { LayerTree } from '../images/tree/types.js';
import type { NetworkConfig } from '../network/types.js';
import type { VolumeRecord } from '../volumes/store.js';

/** What `image rm` did to one reference. */
export interface HostImageRemoval {
  untagged: string[];
  deleted?: string;
}

/** A pull as the client asks for it: the host's own registry settings and credentials file apply. */
export interface HostPullRequest {
  reference: string;
  platform?: Platform;
  tlsVerify?: boolean;
  /** --creds: for this pull only. */
  credentials?: Credentials;
}

/** What `pull --json` prints, and whether the name already meant this image. */
export interface HostPullResult {
  Id: string;
  Name: string | null;
  Digest: string;
  ManifestDigest: string;
  Layers: { Digest: string; Size: number; Source: string }[];
  upToDate: boolean;
}

/** A volume with what `volume ls` shows of it beyond its record. */
export interface HostVolume {
  volume: VolumeRecord;
  /** Containers that use it (stored records, running or not). */
  links: number;
  mountpoint: string;
  /** Bytes under its data directory, when asked for. */
  size?: number;
}

/** `cp CONTAINER:SRC ...` as any host serves it: the source's tar stream. */
export interface HostCopyFrom {
  /** The path in the container, as given (docker's rules: "SRC/." is its content). */
  source: string;
  /** -a: owners and user.* xattrs as they are. */
  archive?: boolean;
  /** -L: follow a symlink named as the source. */
  followLink?: boolean;
  /**
   * For a receiver that places the tree itself (cp to a path on the client): the top always comes,
   * named as in the container. Without it, the stream is `cp CONTAINER:SRC -`'s archive.
   */
  wholeTree?: boolean;
}

/** `cp ... CONTAINER:DEST` as any host serves it: a tar stream into the container. */
export interface HostCopyTo {
  destination: string;
  archive?: boolean;
  /**
   * What the client's source is (cp SRC CONTAINER:DEST): the stream's top entry is it, named
   * `source.name`, and the host places it by docker's rules. Without it the stream is an archive
   * to unpack into the destination directory (`cp - CONTAINER:DEST`).
   */
  source?: CopySource;
}

/** A network and whether a container uses it (`network ls --filter dangling=`). */
export interface HostNetwork {
  config: NetworkConfig;
  inUse: boolean;
}

export async function imageTree(
  engine: Engine,
  reference: string,
  options: { container?: boolean } = {},
): Promise<LayerTree> {
  if (options.container) {
    const { containerLayerTree } = await import('../images/tree/container-tree.js');
    return containerLayerTree(engine, reference);
  }
  const { layerTree } = await import('../images/tree/layer-tree.js');
  return layerTree(engine.images, await engine.images.resolve(reference));
}

export async function removeImage(
  engine: Engine,
  reference: string,
  options: { force?: boolean; allNames?: boolean } = {},
): Promise<HostImageRemoval> {
  const result = await engine.images.remove(reference, {
    force: options.force === true,
    allNames: options.allNames === true,
  });
  return { untagged: result.untagged, ...(result.deleted ? { deleted: result.deleted } : {}) };
}

export async function pullImage(
  engine: Engine,
  request: HostPullRequest,
  options: { onEvent?: (event: TransferEvent) => void; signal?: AbortSignal } = {},
): Promise<HostPullResult> {
  const [{ pullImage: pull }, { authFileLocation }] = await Promise.all([
    import('../images/registry/pull.js'),
    import('../images/registry/auth-file.js'),
  ]);
  // "Up to date" as docker says it: the reference named this same image before the pull.
  const before = await engine.images
    .resolve(request.reference)
    .then((record) => record.id)
    .catch(() => undefined);
  const result = await pull(engine.images, request.reference, {
    // The host's own credentials file (<root>/auth.json, $REGISTRY_AUTH_FILE there): its registries.
    authFile: authFileLocation(engine.layout.root),
    ...(request.tlsVerify !== undefined ? { tlsVerify: request.tlsVerify } : {}),
    ...(request.credentials ? { credentials: request.credentials } : {}),
    ...(request.platform ? { platform: request.platform } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return {
    Id: result.record.id,
    Name: result.name ?? null,
    Digest: result.indexDigest ?? result.manifestDigest,
    ManifestDigest: result.manifestDigest,
    Layers: result.layers.map((layer) => ({ Digest: layer.digest, Size: layer.size, Source: layer.source })),
    upToDate: before === result.record.id,
  };
}

export async function listVolumes(engine: Engine, options: { sizes?: boolean } = {}): Promise<HostVolume[]> {
  const { storedVolumeUsers, volumeSize } = await import('../volumes/usage.js');
  const users = await storedVolumeUsers(engine.containers);
  return (await engine.volumes.list()).map((volume) => {
    const mountpoint = engine.volumes.dataPath(volume.Name);
    return {
      volume,
      links: (users.get(volume.Name) ?? []).length,
      mountpoint,
      ...(options.sizes ? { size: volumeSize(mountpoint) } : {}),
    };
  });
}

export async function listNetworks(engine: Engine): Promise<HostNetwork[]> {
  const manager = await engine.network();
  const networks: HostNetwork[] = [];
  for (const config of await manager.list())
    networks.push({ config, inUse: (await engine.networkUsers(config.Name)).length > 0 });
  return networks;
}

/** The source's tar stream (errors, a missing source included, come as the stream's error). */
export async function copyFrom(engine: Engine, reference: string, request: HostCopyFrom): Promise<Readable> {
  const [{ PassThrough }, { copyFromContainer }] = await Promise.all([
    import('node:stream'),
    import('../containers/copy/copy.js'),
  ]);
  const record = await engine.get(reference);
  const output = new PassThrough();
  // A failure before the reader is attached (a missing source) must not be an uncaught 'error':
  // the stream keeps it, and the reader's pipeline reports it.
  output.on('error', () => undefined);
  copyFromContainer(engine, record, request.source, output, {
    archive: request.archive === true,
    followLink: request.followLink === true,
    wholeTree: request.wholeTree === true,
  }).then(
    () => output.end(),
    (error: unknown) => output.destroy(error as Error),
  );
  return output;
}

export async function copyTo(
  engine: Engine,
  reference: string,
  request: HostCopyTo,
  archive: Readable,
): Promise<void> {
  const { copyToContainer } = await import('../containers/copy/copy.js');
  const record = await engine.get(reference);
  const options = { archive: request.archive === true };
  await copyToContainer(
    engine,
    record,
    request.source ? { archive, source: request.source } : archive,
    request.destination,
    options,
  );
}
