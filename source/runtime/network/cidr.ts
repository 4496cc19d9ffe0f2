/**
 * IPv4 addresses and subnets as numbers: parsing with messages a user can act on, and the little
 * arithmetic IPAM and subnet choice need (containment, overlap, first and last host).
 */
import { InvalidArgumentError } from '../errors.js';

export interface Ipv4Subnet {
  /** The network address as an unsigned 32-bit number. */
  address: number;
  prefixLength: number;
}

export function parseIpv4(text: string): number | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1).map(Number);
  if (octets.some((octet) => octet > 255)) return undefined;
  return octets.reduce((value, octet) => value * 256 + octet, 0);
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

export function mask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/** "10.88.0.0/16" (host bits must be zero, as docker requires). */
export function parseSubnet(text: string, flag = '--subnet'): Ipv4Subnet {
  const [addressText, lengthText, ...rest] = text.split('/');
  const address = addressText === undefined ? undefined : parseIpv4(addressText);
  const prefixLength = lengthText !== undefined && /^\d{1,2}$/.test(lengthText) ? Number(lengthText) : NaN;
  if (text.includes(':')) {
    throw new InvalidArgumentError(`${flag} ${text}: IPv6 subnets are not supported`, {
      hint: 'give an IPv4 subnet such as 10.90.0.0/24',
    });
  }
  if (address === undefined || rest.length > 0 || !(prefixLength >= 8 && prefixLength <= 30)) {
    throw new InvalidArgumentError(
      `${flag} ${JSON.stringify(text)} is not an IPv4 subnet with a prefix from 8 to 30`,
      {
        hint: 'write ADDRESS/PREFIX, e.g. 10.90.0.0/24',
      },
    );
  }
  if ((address & ~mask(prefixLength)) >>> 0 !== 0) {
    const network = formatIpv4((address & mask(prefixLength)) >>> 0);
    throw new InvalidArgumentError(`${flag} ${text}: the address has host bits set`, {
      hint: `did you mean ${network}/${prefixLength}?`,
    });
  }
  return { address, prefixLength };
}

export function formatSubnet(subnet: Ipv4Subnet): string {
  return `${formatIpv4(subnet.address)}/${subnet.prefixLength}`;
}

export function contains(subnet: Ipv4Subnet, address: number): boolean {
  return (address & mask(subnet.prefixLength)) >>> 0 === subnet.address;
}

export function overlaps(a: Ipv4Subnet, b: Ipv4Subnet): boolean {
  const shorter = Math.min(a.prefixLength, b.prefixLength);
  return (a.address & mask(shorter)) >>> 0 === (b.address & mask(shorter)) >>> 0;
}

export function broadcast(subnet: Ipv4Subnet): number {
  return (subnet.address | ~mask(subnet.prefixLength)) >>> 0;
}

/** The first usable host address (docker and podman put the gateway there). */
export function firstHost(subnet: Ipv4Subnet): number {
  return subnet.address + 1;
}

/** 02:42 followed by the address: stable per address, as docker makes them. */
export function macForAddress(address: number): string {
  const bytes = [0x02, 0x42, address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255];
  return bytes.map((byte) => byte.toString(16).padStart(2, '0')).join(':');
}
