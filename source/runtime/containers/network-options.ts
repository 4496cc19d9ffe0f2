/**
 * The network part of `create`: the mode (--network), published and exposed ports, aliases,
 * --add-host and --dns*, checked together as docker does (flags that make no sense with a mode
 * are refused, not ignored), and turned into the record's HostConfig / Config / NetworkSettings.
 * Pure: whether a named network or container exists is the engine's check.
 */
import { InvalidArgumentError } from '../errors.js';
import { parseIpv4 } from '../network/cidr.js';
import { parseExtraHost } from '../network/hosts-file.js';
import { exposedPortKey, portBindingsFrom, type PortBindings } from '../network/ports.js';
import type { EndpointSettings, HostConfig, NetworkSettingsRecord } from './record.js';

export interface NetworkCreateOptions {
  /** --network: bridge, none, host, container:NAME|ID, or a network's name. */
  network?: string;
  /** -p values. */
  publish?: string[];
  /** -P */
  publishAll?: boolean;
  /** --expose values. */
  expose?: string[];
  /** --network-alias values. */
  networkAliases?: string[];
  /** --ip: a fixed IPv4 address on the (user) network. */
  ip?: string;
  /** --add-host NAME:IP */
  addHosts?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  hostname?: string;
}

/** The mode a container gets without --network (GANTRY_DEFAULT_NETWORK, else the bridge). */
export function defaultNetworkMode(env: NodeJS.ProcessEnv = process.env): string {
  return env.GANTRY_DEFAULT_NETWORK || 'bridge';
}

export type NetworkKind = 'none' | 'host' | 'container' | 'bridge';

/** What kind of mode NetworkMode is; "bridge" covers the default network and user networks. */
export function networkKind(mode: string): NetworkKind {
  if (mode === 'none' || mode === 'host') return mode;
  if (mode.startsWith('container:')) return 'container';
  return 'bridge';
}

export function emptyEndpoint(aliases: string[] = [], ipv4Address?: string): EndpointSettings {
  return {
    Aliases: aliases,
    ...(ipv4Address !== undefined ? { IPAMConfig: { IPv4Address: ipv4Address } } : {}),
    NetworkID: '',
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    MacAddress: '',
  };
}

export interface NetworkFields {
  mode: string;
  host: Pick<
    HostConfig,
    'PortBindings' | 'PublishAllPorts' | 'Dns' | 'DnsSearch' | 'DnsOptions' | 'ExtraHosts'
  >;
  exposedPorts: Record<string, object>;
  settings?: NetworkSettingsRecord;
}

function refuse(flag: string, mode: string, why: string): never {
  throw new InvalidArgumentError(`${flag} cannot be used with --network ${mode}: ${why}`, {
    hint: 'leave it out, or use a bridge network (the default) or a network made with `gantry network create`',
  });
}

export function networkFields(
  options: NetworkCreateOptions,
  imageExposed: Record<string, object> = {},
): NetworkFields {
  let mode = options.network ?? defaultNetworkMode();
  if (mode === 'private') mode = 'none';
  if (mode === 'default') mode = 'bridge';
  if (mode === '' || mode === 'container:' || /\s/.test(mode)) {
    throw new InvalidArgumentError(`invalid --network ${JSON.stringify(mode)}`, {
      hint: 'accepted are bridge (the default), none, host, container:NAME|ID, or the name of a network',
    });
  }
  const kind = networkKind(mode);
  if (kind === 'bridge' && mode !== 'bridge' && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(mode)) {
    throw new InvalidArgumentError(
      `invalid --network ${JSON.stringify(mode)}: not a mode or a network name`,
      {
        hint: 'accepted are bridge (the default), none, host, container:NAME|ID, or the name of a network',
      },
    );
  }
  const publish = options.publish ?? [];
  const portBindings: PortBindings = portBindingsFrom(publish);
  if (kind !== 'bridge') {
    const why =
      kind === 'host'
        ? "the container's ports are the host's already"
        : kind === 'none'
          ? 'the container has no interface but lo'
          : 'the ports belong to the other container; publish them there';
    if (publish.length > 0) refuse('-p', mode, why);
    if (options.publishAll) refuse('-P', mode, why);
  }
  if ((options.networkAliases ?? []).length > 0 && (kind !== 'bridge' || mode === 'bridge')) {
    throw new InvalidArgumentError(
      '--network-alias is supported only for containers on user-defined networks',
      {
        hint: 'make a network (`gantry network create NAME`) and run the container with --network NAME',
      },
    );
  }
  if (options.ip !== undefined) {
    if (kind !== 'bridge' || mode === 'bridge') {
      throw new InvalidArgumentError('--ip is supported only for containers on user-defined networks', {
        hint: 'make a network (`gantry network create --subnet CIDR NAME`) and run the container with --network NAME',
      });
    }
    if (parseIpv4(options.ip) === undefined) {
      throw new InvalidArgumentError(`--ip ${JSON.stringify(options.ip)} is not an IPv4 address`, {
        hint: "give an address of the network's subnet, e.g. --ip 10.89.0.10",
      });
    }
  }
  if (kind === 'container') {
    for (const [flag, given] of [
      ['--dns', options.dns],
      ['--dns-search', options.dnsSearch],
      ['--dns-option', options.dnsOptions],
      ['--add-host', options.addHosts],
    ] as const)
      if ((given ?? []).length > 0) refuse(flag, mode, "it shares the other container's /etc files");
    if (options.hostname !== undefined)
      refuse('--hostname', mode, "it shares the other container's host name");
  }
  for (const server of options.dns ?? []) {
    if (parseIpv4(server) === undefined && !/^[0-9a-fA-F:]+$/.test(server)) {
      throw new InvalidArgumentError(`--dns ${JSON.stringify(server)} is not an IP address`, {
        hint: 'give the address of a name server, e.g. --dns 192.0.2.53',
      });
    }
  }
  for (const domain of options.dnsSearch ?? []) {
    if (!/^[A-Za-z0-9.-]+$/.test(domain)) {
      throw new InvalidArgumentError(`--dns-search ${JSON.stringify(domain)} is not a domain`, {
        hint: 'e.g. --dns-search example.com (or "." for none)',
      });
    }
  }
  for (const entry of options.addHosts ?? []) parseExtraHost(entry);

  const exposedPorts: Record<string, object> = {};
  for (const key of Object.keys(imageExposed)) exposedPorts[key] = {};
  for (const text of options.expose ?? []) for (const key of exposedPortKey(text)) exposedPorts[key] = {};
  for (const key of Object.keys(portBindings)) exposedPorts[key] = {};

  const host: NetworkFields['host'] = {
    ...(Object.keys(portBindings).length > 0 ? { PortBindings: portBindings } : {}),
    ...(options.publishAll ? { PublishAllPorts: true } : {}),
    ...((options.dns ?? []).length > 0 ? { Dns: options.dns } : {}),
    ...((options.dnsSearch ?? []).length > 0 ? { DnsSearch: options.dnsSearch } : {}),
    ...((options.dnsOptions ?? []).length > 0 ? { DnsOptions: options.dnsOptions } : {}),
    ...((options.addHosts ?? []).length > 0 ? { ExtraHosts: options.addHosts } : {}),
  };
  const fields: NetworkFields = { mode, host, exposedPorts };
  if (kind === 'bridge') {
    fields.settings = {
      Networks: { [mode]: emptyEndpoint(options.networkAliases ?? [], options.ip) },
      Ports: {},
    };
  }
  return fields;
}
