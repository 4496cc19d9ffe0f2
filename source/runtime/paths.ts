/**
 * Layout of the state root. Every path the runtime writes is derived here, so a test can point
 * the whole engine at a temporary directory with `--root` / GANTRY_ROOT.
 */
import path from 'node:path';

export const DEFAULT_STATE_ROOT = '/var/lib/gantry';
/** Default cgroup parent (a directory under each hierarchy). Tests use their own. */
export const DEFAULT_CGROUP_PARENT = 'gantry';

export interface EngineOptions {
  /** State root directory. */
  root: string;
  /** Name of the cgroup directory that holds every container's cgroup. */
  cgroupParent: string;
  /** Mount point of the cgroup filesystems (tests of the v2 driver point it at a fake tree). */
  cgroupRoot: string;
  /** Receives warnings that do not stop a command (a damaged record skipped, a record rebuilt). */
  warn?: (message: string, hint?: string) => void;
}

export function resolveEngineOptions(
  flags: { root?: string | undefined; cgroupParent?: string | undefined } = {},
  env: NodeJS.ProcessEnv = process.env,
): EngineOptions {
  const root = path.resolve(flags.root ?? env.GANTRY_ROOT ?? DEFAULT_STATE_ROOT);
  const cgroupParent = flags.cgroupParent ?? env.GANTRY_CGROUP_PARENT ?? DEFAULT_CGROUP_PARENT;
  return { root, cgroupParent, cgroupRoot: env.GANTRY_CGROUP_ROOT ?? '/sys/fs/cgroup' };
}

export class StateLayout {
  constructor(readonly root: string) {}

  get tmp(): string {
    return path.join(this.root, 'tmp');
  }
  get locks(): string {
    return path.join(this.root, 'locks');
  }
  /** Content-addressed blobs: blobs/sha256/<hex>. */
  get blobs(): string {
    return path.join(this.root, 'blobs');
  }
  blob(digest: string): string {
    const [algorithm, hex] = digest.split(':') as [string, string];
    return path.join(this.root, 'blobs', algorithm, hex);
  }
  /** Unpacked layers keyed by ChainID: layers/<hex>/diff. */
  get layers(): string {
    return path.join(this.root, 'layers');
  }
  layer(chainId: string): string {
    return path.join(this.layers, chainId.replace(/^sha256:/, ''));
  }
  get images(): string {
    return path.join(this.root, 'images');
  }
  get containers(): string {
    return path.join(this.root, 'containers');
  }
  container(id: string): string {
    return path.join(this.containers, id);
  }
  /** Name reservations: names/<name> is a symlink to the container id (atomic via symlink(2)). */
  get names(): string {
    return path.join(this.root, 'names');
  }
}
