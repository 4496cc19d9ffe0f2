/**
 * Kubernetes resource quantities ("64Mi", "500m", "1G") to and from the engine's units (bytes,
 * CFS microseconds, cpu shares), with the conversions the kubelet itself applies, so a limit that
 * goes out through `kube generate` comes back the same through `kube play`.
 */
import { InvalidArgumentError } from '../errors.js';

const BINARY = [
  ['Ei', 2n ** 60n],
  ['Pi', 2n ** 50n],
  ['Ti', 2n ** 40n],
  ['Gi', 2n ** 30n],
  ['Mi', 2n ** 20n],
  ['Ki', 2n ** 10n],
] as const;
const DECIMAL: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** Bytes as the largest binary unit that divides them ("64Mi"), else the plain number. */
export function formatBytes(bytes: number): string {
  const value = BigInt(Math.trunc(bytes));
  for (const [suffix, size] of BINARY)
    if (value !== 0n && value % size === 0n) return `${value / size}${suffix}`;
  return String(value);
}

/** A memory quantity in bytes ("64Mi", "1G", "500000", "1e6"); fractions round up, as the kubelet's. */
export function parseBytes(text: string, field: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|e[0-9]+)?$/.exec(text.trim());
  if (!match) {
    throw new InvalidArgumentError(`${field}: ${JSON.stringify(text)} is not a Kubernetes quantity`, {
      hint: 'give bytes with an optional unit: Ki, Mi, Gi, Ti (powers of 1024) or k, M, G, T (of 1000), e.g. 64Mi',
    });
  }
  const number = Number(match[1]);
  const suffix = match[2] ?? '';
  const binary = BINARY.find(([name]) => name === suffix);
  const factor = binary
    ? Number(binary[1])
    : suffix.startsWith('e')
      ? 10 ** Number(suffix.slice(1))
      : (DECIMAL[suffix] ?? 1);
  return Math.ceil(number * factor);
}

/** CPUs as millicores ("500m"), or whole CPUs when that is exact ("2"). */
export function formatMillicores(millicores: number): string {
  return millicores % 1000 === 0 ? String(millicores / 1000) : `${millicores}m`;
}

/** A cpu quantity ("500m", "0.5", "2") in millicores. */
export function parseMillicores(text: string | number, field: string): number {
  const value = String(text).trim();
  const match = /^([0-9]+(?:\.[0-9]+)?)(m)?$/.exec(value);
  if (!match) {
    throw new InvalidArgumentError(`${field}: ${JSON.stringify(value)} is not a cpu quantity`, {
      hint: 'give CPUs as a decimal ("0.5", "2") or millicores ("500m")',
    });
  }
  const millicores = match[2] ? Number(match[1]) : Number(match[1]) * 1000;
  return Math.ceil(millicores);
}

const CFS_PERIOD = 100_000;

/** The CFS quota of a cpu limit, as the kubelet sets it (period 100 ms). */
export function quotaOfMillicores(millicores: number): { cpuPeriod: number; cpuQuota: number } {
  return { cpuPeriod: CFS_PERIOD, cpuQuota: Math.max(1000, Math.round((millicores * CFS_PERIOD) / 1000)) };
}

/** The millicores a CFS quota allows (--cpus 0.5 is 500m). */
export function millicoresOfQuota(quota: number, period = CFS_PERIOD): number {
  return Math.round((quota * 1000) / period);
}

/** cpu shares of a cpu request, the kubelet's MilliCPUToShares. */
export function sharesOfMillicores(millicores: number): number {
  return Math.max(2, Math.round((millicores * 1024) / 1000));
}

/** The cpu request that gives these shares. */
export function millicoresOfShares(shares: number): number {
  return Math.round((shares * 1000) / 1024);
}
