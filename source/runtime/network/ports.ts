/**
 * Published ports: docker's `-p [IP:][HOSTPORT:]CONTAINERPORT[/tcp|udp]` (ranges as
 * `8000-8001:80-81`), `--expose`, the record's docker-shaped PortBindings / ExposedPorts, and the
 * text `ps` and `port` print. Pure.
 */
import { InvalidArgumentError } from '../errors.js';
import { parseIpv4 } from './cidr.js';

export type PortProtocol = 'tcp' | 'udp';

/** docker's HostConfig.PortBindings: "80/tcp" -> [{HostIp, HostPort}] ("" = any / pick one). */
export type PortBindings = Record<string, { HostIp: string; HostPort: string }[]>;

/** One published port once the host port is known. */
export interface PublishedPort {
  protocol: PortProtocol;
  containerPort: number;
  /** "" publishes on every address of the host (docker shows 0.0.0.0). */
  hostIp: string;
  hostPort: number;
}

const SYNTAX_HINT = 'write [IP:][HOSTPORT:]CONTAINERPORT[/tcp|udp], e.g. 127.0.0.1:8080:80 or 8080:80/udp';

function parsePortRange(text: string, what: string, spec: string): [number, number] {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  const start = match ? Number(match[1]) : NaN;
  const end = match?.[2] !== undefined ? Number(match[2]) : start;
  if (!match || start < 1 || end > 65535 || end < start) {
    throw new InvalidArgumentError(
      `-p ${spec}: ${JSON.stringify(text)} is not a valid ${what} (a port 1-65535 or a range START-END)`,
      { hint: SYNTAX_HINT },
    );
  }
  return [start, end];
}

/** Splits "IP:HOST:CONTAINER/proto" into its parts; an IPv6 address is refused clearly. */
export function parsePublishSpec(spec: string): { key: string; HostIp: string; HostPort: string }[] {
  const slash = spec.lastIndexOf('/');
  const protocolText = slash >= 0 ? spec.slice(slash + 1) : 'tcp';
  const body = slash >= 0 ? spec.slice(0, slash) : spec;
  if (protocolText !== 'tcp' && protocolText !== 'udp') {
    throw new InvalidArgumentError(`-p ${spec}: unsupported protocol ${JSON.stringify(protocolText)}`, {
      hint: 'accepted are tcp (the default) and udp',
    });
  }
  if (body.startsWith('[') || body.split(':').length > 3) {
    throw new InvalidArgumentError(`-p ${spec}: IPv6 host addresses are not supported`, {
      hint: 'publish on an IPv4 address, or on all addresses by leaving the IP out',
    });
  }
  const parts = body.split(':');
  const containerText = parts.pop() ?? '';
  const hostPortText = parts.pop() ?? '';
  const hostIp = parts.pop() ?? '';
  if (hostIp !== '' && parseIpv4(hostIp) === undefined) {
    throw new InvalidArgumentError(`-p ${spec}: ${JSON.stringify(hostIp)} is not an IPv4 address`, {
      hint: SYNTAX_HINT,
    });
  }
  const [containerStart, containerEnd] = parsePortRange(containerText, 'container port', spec);
  let hostStart = 0;
  let hostEnd = 0;
  if (hostPortText !== '') [hostStart, hostEnd] = parsePortRange(hostPortText, 'host port', spec);
  const containerCount = containerEnd - containerStart + 1;
  if (hostPortText !== '' && hostEnd - hostStart + 1 !== containerCount) {
    throw new InvalidArgumentError(
      `-p ${spec}: the host range has ${hostEnd - hostStart + 1} ports and the container range ${containerCount}`,
      { hint: 'give ranges of the same length' },
    );
  }
  const normalizedIp = hostIp === '0.0.0.0' ? '' : hostIp;
  return Array.from({ length: containerCount }, (_, index) => ({
    key: `${containerStart + index}/${protocolText}`,
    HostIp: normalizedIp,
    HostPort: hostPortText === '' ? '' : String(hostStart + index),
  }));
}

/** `-p` values as docker's PortBindings. */
export function portBindingsFrom(specs: readonly string[]): PortBindings {
  const bindings: PortBindings = {};
  for (const spec of specs) {
    for (const { key, HostIp, HostPort } of parsePublishSpec(spec)) {
      const list = (bindings[key] ??= []);
      if (!list.some((entry) => entry.HostIp === HostIp && entry.HostPort === HostPort && HostPort !== ''))
        list.push({ HostIp, HostPort });
    }
  }
  return bindings;
}

/** `--expose PORT[/proto]` or an image's ExposedPorts key as "PORT/proto". */
export function exposedPortKey(text: string, flag = '--expose'): string[] {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/.exec(text);
  const start = match ? Number(match[1]) : NaN;
  const end = match?.[2] !== undefined ? Number(match[2]) : start;
  if (!match || start < 1 || end > 65535 || end < start) {
    throw new InvalidArgumentError(`${flag} ${JSON.stringify(text)} is not a port`, {
      hint: 'write PORT[/tcp|udp] or START-END[/tcp|udp]',
    });
  }
  const protocol = match[3] ?? 'tcp';
  return Array.from({ length: end - start + 1 }, (_, index) => `${start + index}/${protocol}`);
}

export function splitPortKey(key: string): { port: number; protocol: PortProtocol } | undefined {
  const match = /^(\d+)\/(tcp|udp)$/.exec(key);
  if (!match) return undefined;
  return { port: Number(match[1]), protocol: match[2] as PortProtocol };
}

/** docker's ps PORTS text: "127.0.0.1:8080->80/tcp, 0.0.0.0:32768->443/tcp", exposed-only "53/udp". */
export function formatPorts(published: readonly PublishedPort[], exposed: readonly string[] = []): string {
  const items: string[] = [];
  const sorted = [...published].sort(
    (a, b) =>
      a.containerPort - b.containerPort || a.protocol.localeCompare(b.protocol) || a.hostPort - b.hostPort,
  );
  for (const port of sorted)
    items.push(`${port.hostIp || '0.0.0.0'}:${port.hostPort}->${port.containerPort}/${port.protocol}`);
  for (const key of exposed)
    if (!published.some((port) => `${port.containerPort}/${port.protocol}` === key)) items.push(key);
  return items.join(', ');
}

/** docker's NetworkSettings.Ports: every exposed or published port, null when not published. */
export function networkSettingsPorts(
  published: readonly PublishedPort[],
  exposed: readonly string[],
): Record<string, { HostIp: string; HostPort: string }[] | null> {
  const ports: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const key of exposed) ports[key] = null;
  for (const port of published) {
    const key = `${port.containerPort}/${port.protocol}`;
    const list = ports[key] ?? [];
    list.push({ HostIp: port.hostIp || '0.0.0.0', HostPort: String(port.hostPort) });
    ports[key] = list;
  }
  return ports;
}
