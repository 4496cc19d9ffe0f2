/**
 * Host ports of published ports: conflicts with other containers' ports (docker's "port is
 * already allocated"), and a free port for `-P` / `-p CONTAINERPORT` from the host's ephemeral
 * range. Whether a process of the host holds a port is settled by the monitor, which binds every
 * published port before the container starts and keeps it for as long as the container runs.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import { ConflictError } from '../errors.js';
import type { PortProtocol, PublishedPort } from './ports.js';

export interface HeldPort extends PublishedPort {
  owner: string;
}

/** Two bindings clash on the same protocol and port when their addresses meet ("" is every one). */
export function clashes(a: Pick<PublishedPort, 'protocol' | 'hostIp' | 'hostPort'>, b: typeof a): boolean {
  return (
    a.protocol === b.protocol &&
    a.hostPort === b.hostPort &&
    (a.hostIp === b.hostIp || a.hostIp === '' || b.hostIp === '')
  );
}

export function conflictError(
  port: Pick<PublishedPort, 'protocol' | 'hostIp' | 'hostPort'>,
  owner: string,
): ConflictError {
  return new ConflictError(
    `Bind for ${port.hostIp || '0.0.0.0'}:${port.hostPort}/${port.protocol} failed: port is already allocated (by container ${owner})`,
    { hint: 'publish on another host port, or stop that container first' },
  );
}

/** The ephemeral range of gantry's namespace (docker picks -P ports from it too). */
export function ephemeralRange(): [number, number] {
  try {
    const [low, high] = fs
      .readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low && high && low <= high) return [low, high];
  } catch {
    // fall through
  }
  return [32768, 60999];
}

/** Whether a process of this namespace could bind the port now (it is asked, not guessed). */
export function portFreeOnHost(protocol: PortProtocol, hostIp: string, port: number): Promise<boolean> {
  const host = hostIp || '0.0.0.0';
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const socket = dgram.createSocket('udp4');
      socket.once('error', () => {
        socket.close();
        resolve(false);
      });
      socket.bind({ port, address: host, exclusive: true }, () => socket.close(() => resolve(true)));
      return;
    }
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A host port for a binding without one: free among containers and on the host. */
export async function chooseHostPort(
  binding: Pick<PublishedPort, 'protocol' | 'hostIp'>,
  held: readonly HeldPort[],
  start?: number,
): Promise<number> {
  const [low, high] = ephemeralRange();
  const size = high - low + 1;
  const first = start !== undefined && start >= low && start <= high ? start : low;
  for (let step = 0; step < size; step++) {
    const port = low + ((first - low + step) % size);
    const candidate = { ...binding, hostPort: port };
    if (held.some((other) => clashes(candidate, other))) continue;
    if (await portFreeOnHost(binding.protocol, binding.hostIp, port)) return port;
  }
  throw new ConflictError(`no free host port for ${binding.protocol} in ${low}-${high}`, {
    hint: 'give host ports explicitly with -p HOSTPORT:CONTAINERPORT',
  });
}
