/**
 * Address allocation within a subnet: the next free address after the one handed out last
 * (wrapping), never the network address, the broadcast address or the gateway. Handing out the
 * next rather than the lowest free address keeps a just-freed address (still in peers' ARP caches
 * and in conntrack entries of the container that had it) out of use for as long as possible.
 * Pure: the caller holds the network lock and persists the result.
 */
import { broadcast, type Ipv4Subnet } from './cidr.js';

export function allocateAddress(
  subnet: Ipv4Subnet,
  options: { gateway: number; inUse: ReadonlySet<number>; after?: number },
): number | undefined {
  const first = subnet.address + 1;
  const last = broadcast(subnet) - 1;
  const size = last - first + 1;
  const start =
    options.after !== undefined && options.after >= first && options.after < last ? options.after + 1 : first;
  for (let step = 0; step < size; step++) {
    const candidate = first + ((start - first + step) % size);
    if (candidate === options.gateway || options.inUse.has(candidate)) continue;
    return candidate;
  }
  return undefined;
}
