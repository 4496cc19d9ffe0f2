/**
 * A container's ports as `ps` shows them (docker's PORTS column): the published ones while it
 * runs, "HOSTIP:HOSTPORT->PORT/PROTO", and exposed ones that are not published, "PORT/PROTO".
 */
import { formatPorts, splitPortKey, type PublishedPort } from '../network/ports.js';
import type { ContainerRecord } from './record.js';

export function publishedPorts(record: ContainerRecord): PublishedPort[] {
  const running = record.State.Status === 'running' || record.State.Status === 'paused';
  const published: PublishedPort[] = [];
  if (!running) return published;
  for (const [key, bindings] of Object.entries(record.NetworkSettings?.Ports ?? {})) {
    const parsed = splitPortKey(key);
    if (!parsed || !bindings) continue;
    for (const binding of bindings)
      published.push({
        protocol: parsed.protocol,
        containerPort: parsed.port,
        hostIp: binding.HostIp === '0.0.0.0' ? '' : binding.HostIp,
        hostPort: Number(binding.HostPort),
      });
  }
  return published;
}

export function portsText(record: ContainerRecord): string {
  const running = record.State.Status === 'running' || record.State.Status === 'paused';
  return formatPorts(publishedPorts(record), running ? Object.keys(record.Config.ExposedPorts ?? {}) : []);
}
