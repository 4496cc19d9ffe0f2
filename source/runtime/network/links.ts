/**
 * The interfaces of gantry's network namespace (one `ip -j link show`), the uplink's MTU, and
 * the commands that make and remove bridges and veth pairs. /sys/class/net is not read: it shows
 * the namespace sysfs was mounted in, which under `nsenter --net` is not ours; /proc/self/net is.
 */
import fs from 'node:fs';
import { ipJson } from './tools.js';

export interface LinkInfo {
  name: string;
  mtu: number;
  /** The bridge this interface is a port of. */
  master?: string;
  kind?: string;
}

export async function listLinks(): Promise<Map<string, LinkInfo>> {
  const links = await ipJson<
    { ifname: string; mtu: number; master?: string; linkinfo?: { info_kind?: string } }[]
  >(['-d', 'link', 'show'], 'list interfaces');
  return new Map(
    links.map((link) => [
      link.ifname,
      {
        name: link.ifname,
        mtu: link.mtu,
        ...(link.master ? { master: link.master } : {}),
        ...(link.linkinfo?.info_kind ? { kind: link.linkinfo.info_kind } : {}),
      },
    ]),
  );
}

/** The interface of the IPv4 default route (lowest metric), from /proc/self/net/route. */
export function defaultRouteInterface(routeTable?: string): string | undefined {
  let text = routeTable;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/self/net/route', 'utf8');
    } catch {
      return undefined;
    }
  }
  let best: { name: string; metric: number } | undefined;
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8 || fields[1] !== '00000000' || fields[7] !== '00000000') continue;
    const metric = Number(fields[6]);
    if (!best || metric < best.metric) best = { name: fields[0]!, metric };
  }
  return best?.name;
}

export const FALLBACK_MTU = 1500;

/** The MTU containers get: the uplink's (the default route's interface), else 1500. */
export function uplinkMtu(links: ReadonlyMap<string, LinkInfo>, routeTable?: string): number {
  const uplink = defaultRouteInterface(routeTable);
  const mtu = uplink ? links.get(uplink)?.mtu : undefined;
  return mtu && mtu >= 576 ? mtu : FALLBACK_MTU;
}

export function bridgeCommands(bridge: string, gateway: string, prefixLength: number, mtu: number): string[] {
  return [
    `link add ${bridge} mtu ${mtu} type bridge`,
    `addr replace ${gateway}/${prefixLength} dev ${bridge}`,
    `link set ${bridge} up`,
  ];
}

/** The veth pair of one endpoint, its container side made straight in the container's namespace. */
export function vethCommands(options: {
  hostInterface: string;
  bridge: string;
  interface: string;
  mac: string;
  mtu: number;
  pid: number;
}): string[] {
  const { hostInterface, bridge, mtu } = options;
  return [
    `link add ${hostInterface} mtu ${mtu} type veth peer name ${options.interface} mtu ${mtu} address ${options.mac} netns ${options.pid}`,
    `link set ${hostInterface} master ${bridge} up`,
  ];
}

/** What runs inside the container's namespace: the address, the link up, the default route. */
export function containerInterfaceCommands(options: {
  interface: string;
  address: string;
  prefixLength: number;
  gateway?: string;
}): string[] {
  const commands = [
    `addr add ${options.address}/${options.prefixLength} dev ${options.interface}`,
    `link set ${options.interface} up`,
  ];
  if (options.gateway) commands.push(`route add default via ${options.gateway} dev ${options.interface}`);
  return commands;
}

/**
 * Writes a sysctl of gantry's network namespace, `key` as a path ("net/ipv4/ip_forward"):
 * /proc/sys/net follows the writer's namespace.
 */
export function writeSysctl(key: string, value: string): void {
  fs.writeFileSync(`/proc/sys/${key}`, value);
}
