/** docker-shaped `image inspect` output (docker's ImageInspect field names). */
import { shownTime } from './shown-time.js';
import type { ImageRecord, OciImageConfig } from './types.js';

export function inspectImage(record: ImageRecord, config: OciImageConfig): Record<string, unknown> {
  const repository = (name: string) =>
    name.slice(0, name.lastIndexOf(':') > name.lastIndexOf('/') ? name.lastIndexOf(':') : name.length);
  return {
    Id: record.id,
    RepoTags: record.names,
    // What a registry knows it by where a pull recorded it, else each name with the stored manifest.
    RepoDigests: [
      ...new Set([
        ...(record.digests ?? []),
        ...record.names
          .map(repository)
          .filter((name) => !(record.digests ?? []).some((entry) => entry.startsWith(`${name}@`)))
          .map((name) => `${name}@${record.manifestDigest}`),
      ]),
    ],
    Created: shownTime(config.created, record) ?? record.created,
    Author: config.author ?? '',
    Config: config.config ?? {},
    Architecture: config.architecture,
    Variant: config.variant,
    Os: config.os,
    Size: record.size,
    GraphDriver: {
      Name: 'overlay',
      Data: {
        LowerDir: record.layers
          .map((l) => l.chainId)
          .reverse()
          .join(':'),
      },
    },
    RootFS: { Type: 'layers', Layers: config.rootfs.diff_ids },
    History: config.history ?? [],
    Metadata: { LastTagTime: record.created },
  };
}
