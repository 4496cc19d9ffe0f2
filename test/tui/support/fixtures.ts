/** Records, images and samples for TUI tests, shaped like the engine's. */
import type { CgroupStats, Resources } from '../../../source/runtime/cgroups/types.js';
import type { ContainerRecord, ContainerStatus } from '../../../source/runtime/containers/record.js';
import type { ContainerStats } from '../../../source/runtime/containers/stats.js';
import type { ImageRecord, LayerRecord } from '../../../source/runtime/images/types.js';

let counter = 0;

export function hexId(seed: string): string {
  const base = Buffer.from(seed).toString('hex');
  return (base + '0'.repeat(64)).slice(0, 64).replace(/[^0-9a-f]/g, '0');
}

export function container(
  name: string,
  options: {
    status?: ContainerStatus;
    exitCode?: number;
    resources?: Resources;
    image?: string;
    startedAt?: string;
  } = {},
): ContainerRecord {
  counter += 1;
  const status = options.status ?? 'running';
  return {
    Id: hexId(`${name}${counter}`),
    Name: name,
    Created: new Date(Date.UTC(2026, 0, 1, 0, 0, counter)).toISOString(),
    Image: options.image ?? `sha256:${hexId('image-demo')}`,
    ImageName: 'demo',
    Config: {
      Hostname: name,
      Domainname: '',
      User: '',
      Env: [],
      Cmd: ['sleep', '1000'],
      Entrypoint: [],
      WorkingDir: '',
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Image: 'demo',
      Labels: {},
      StopSignal: 'SIGTERM',
    },
    HostConfig: {
      Binds: [],
      NetworkMode: 'none',
      AutoRemove: false,
      ReadonlyRootfs: false,
      Privileged: false,
      CapAdd: [],
      CapDrop: [],
      CgroupParent: '',
      Resources: options.resources ?? {},
      Ulimits: [],
    },
    State: {
      Status: status,
      Pid: status === 'running' || status === 'paused' ? 4242 : 0,
      ExitCode: options.exitCode ?? 0,
      OOMKilled: false,
      Error: '',
      StartedAt: options.startedAt ?? new Date(Date.now() - 90_000).toISOString(),
      FinishedAt: '0001-01-01T00:00:00Z',
    },
    RestartCount: 0,
    Mounts: [],
    LayerDirs: ['/nonexistent/layer/diff'],
  } as ContainerRecord;
}

export function layer(seed: string, size: number): LayerRecord {
  return {
    diffId: `sha256:${hexId(`diff${seed}`)}`,
    chainId: `sha256:${hexId(`chain${seed}`)}`,
    blobDigest: `sha256:${hexId(`blob${seed}`)}`,
    blobSize: size,
    blobMediaType: 'application/vnd.oci.image.layer.v1.tar',
    size,
  };
}

export function image(name: string, layers: LayerRecord[]): ImageRecord {
  return {
    id: `sha256:${hexId(`image-${name}`)}`,
    names: [`${name}:latest`],
    manifestDigest: `sha256:${hexId(`manifest-${name}`)}`,
    configDigest: `sha256:${hexId(`image-${name}`)}`,
    layers,
    created: '2026-01-01T00:00:00Z',
    size: layers.reduce((sum, item) => sum + item.size, 0),
  };
}

export function sample(
  record: ContainerRecord,
  time: number,
  cgroup: Partial<CgroupStats> = {},
  extra: Partial<ContainerStats> = {},
): ContainerStats {
  return {
    id: record.Id,
    name: record.Name,
    time,
    status: record.State.Status,
    onlineCpus: 2,
    cgroup: { time, ...cgroup },
    ...extra,
  };
}
