/**
 * Platforms (os/architecture/variant) as OCI indexes name them, and the choice of the one this
 * host can run from a multi-platform index.
 */
import os from 'node:os';
import { InvalidArgumentError } from '../../errors.js';

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

/** Parses "os/arch[/variant]" as --platform takes it (docker's syntax). */
export function parsePlatform(value: string): Platform {
  const parts = value.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((part) => !/^[a-z0-9_.-]+$/.test(part))) {
    throw new InvalidArgumentError(`invalid platform "${value}"`, {
      hint: 'a platform is os/arch[/variant], e.g. linux/amd64, linux/arm64/v8, linux/arm/v7',
    });
  }
  const [osName, architecture, variant] = parts as [string, string, string | undefined];
  return { os: osName, architecture, variant };
}
