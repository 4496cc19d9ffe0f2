/**
 * Platforms (os/architecture/variant) as OCI indexes name them, and the choice of the one this
 * host can run from a multi-platform index.
 */
import os from 'node:os';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string | undefined;
}

/** Node's process.arch spelled the Go way, as OCI documents use it. */
const GO_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
  ppc: 'ppc',
};

export function hostPlatform(): Platform {
  const architecture =
    process.arch === 'ppc64'
      ? os.endianness() === 'LE'
        ? 'ppc64le'
        : 'ppc64'
      : (GO_ARCH[process.arch] ?? process.arch);
  let variant: string | undefined;
  if (architecture === 'arm64') variant = 'v8';
  if (architecture === 'arm') {
    const armVersion = (process.config.variables as Record<string, unknown>).arm_version;
    if (typeof armVersion === 'string' || typeof armVersion === 'number') variant = `v${armVersion}`;
  }
  return { os: 'linux', architecture, variant };
}

export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter((part) => part).join('/');
}

/** 0 when the platform cannot run here, higher for a better match. */
export function platformScore(candidate: Platform, host: Platform = hostPlatform()): number {
  if (candidate.os !== host.os || candidate.architecture !== host.architecture) return 0;
  if (!candidate.variant || !host.variant) return 1;
  if (candidate.variant === host.variant) return 2;
  // arm64 has one variant in practice; "v8" and none mean the same.
  return host.architecture === 'arm64' ? 1 : 0;
}
