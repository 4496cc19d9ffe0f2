import { describe, expect, it } from 'vitest';
import { inspectImage } from '../../../source/runtime/images/inspect.js';
import type { ImageRecord, OciImageConfig } from '../../../source/runtime/images/types.js';

const digest = `sha256:${'a'.repeat(64)}`;
const record: ImageRecord = {
  id: `sha256:${'b'.repeat(64)}`,
  names: ['registry.local:5000/app:1', 'registry.local:5000/app:2', 'other'],
  manifestDigest: digest,
  configDigest: `sha256:${'b'.repeat(64)}`,
  layers: [],
  created: '2026-01-01T00:00:00Z',
  size: 10,
};
const config = {
  architecture: 'amd64',
  os: 'linux',
  rootfs: { type: 'layers', diff_ids: [] },
} as OciImageConfig;

describe('image inspect', () => {
  it('lists only the repository@digest entries a registry gave (pull, push), each once', () => {
    const result = inspectImage(record, config);
    expect(result.RepoTags).toEqual(record.names);
    // Names that were never pulled or pushed are in no registry.
    expect(result.RepoDigests).toEqual([]);
    const pulled = inspectImage(
      { ...record, digests: [`registry.local:5000/app@${digest}`, `registry.local:5000/app@${digest}`] },
      config,
    );
    expect(pulled.RepoDigests).toEqual([`registry.local:5000/app@${digest}`]);
  });
});
