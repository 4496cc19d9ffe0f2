/** The files the engine manages for each container: /etc/hostname, /etc/hosts, /etc/resolv.conf. */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { atomicWriteFile } from '../fsutil.js';
import { isolatedHosts, extraHostLines } from '../network/hosts-file.js';

export interface EtcFiles {
  hostname: string;
  hosts: string;
  resolvConf: string;
}

export interface EtcOptions {
  /** --dns: replaces the host's name servers. */
  dns?: string[];
  /** --dns-search: replaces the search domains ("." for none). */
  dnsSearch?: string[];
  /** --dns-option: replaces the options line. */
  dnsOptions?: string[];
  /** --add-host lines. */
  extraHosts?: string[];
  /** The whole /etc/hosts, when the network layer wrote it (bridge and user networks). */
  hosts?: string;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** What docker writes when the host's resolv.conf leaves the container no server to ask. */
const DOCKER_FALLBACK_SERVERS = ['nameserver 8.8.8.8', 'nameserver 8.8.4.4'];

const LOOPBACK_SERVER = /^\s*nameserver\s+(127\.|::1\s*$)/;

/**
 * The container's resolv.conf: the host's, without name servers on the host's loopback (out of
 * reach from the container's own stack; with systemd-resolved, its upstream servers stand in,
 * else docker's fallback servers), then --dns, --dns-search and --dns-option in place of the host's lines.
 */
export function containerResolvConf(
  networkMode: string,
  options: EtcOptions,
  read: (file: string) => string | undefined = readText,
): string {
  const text = read('/etc/resolv.conf') ?? '';
  let lines = text.split('\n');
  if (networkMode !== 'host') {
    lines = lines.filter((line) => !LOOPBACK_SERVER.test(line));
    if (!lines.some((line) => /^\s*nameserver\s/.test(line))) {
      const upstream = (read('/run/systemd/resolve/resolv.conf') ?? '')
        .split('\n')
        .filter((line) => /^\s*nameserver\s/.test(line) && !LOOPBACK_SERVER.test(line));
      lines = [...lines.filter((line) => line.trim() !== ''), ...upstream];
    }
    // Nothing left to ask: docker's fallback servers, as a docker container would have them.
    if (!lines.some((line) => /^\s*nameserver\s/.test(line)) && (options.dns ?? []).length === 0)
      lines = [...lines.filter((line) => line.trim() !== ''), ...DOCKER_FALLBACK_SERVERS];
  }
  const replace = (keyword: string, values: string[] | undefined, render: (values: string[]) => string[]) => {
    if (values === undefined || values.length === 0) return;
    lines = [...lines.filter((line) => !new RegExp(`^\\s*${keyword}\\s`).test(line)), ...render(values)];
  };
  replace('nameserver', options.dns, (servers) => servers.map((server) => `nameserver ${server}`));
  replace('(search|domain)', options.dnsSearch, (domains) =>
    domains.includes('.') ? [] : [`search ${domains.join(' ')}`],
  );
  replace('options', options.dnsOptions, (values) => [`options ${values.join(' ')}`]);
  const result = lines.join('\n').replace(/\n+$/, '');
  return result === '' ? '' : `${result}\n`;
}

export async function writeEtcFiles(
  directory: string,
  hostname: string,
  networkMode: string,
  options: EtcOptions = {},
): Promise<EtcFiles> {
  const files: EtcFiles = {
    hostname: path.join(directory, 'hostname'),
    hosts: path.join(directory, 'hosts'),
    resolvConf: path.join(directory, 'resolv.conf'),
  };
  const extra = options.extraHosts ?? [];
  let hosts: string;
  if (options.hosts !== undefined) hosts = options.hosts;
  else if (networkMode === 'host') {
    const own = await fsp.readFile('/etc/hosts', 'utf8').catch(() => '127.0.0.1\tlocalhost\n');
    const added = extraHostLines(extra, undefined);
    hosts = added.length > 0 ? `${own.replace(/\n*$/, '\n')}${added.join('\n')}\n` : own;
  } else hosts = isolatedHosts(hostname, extra);
  await atomicWriteFile(files.hostname, `${hostname}\n`);
  await atomicWriteFile(files.hosts, hosts);
  await atomicWriteFile(files.resolvConf, containerResolvConf(networkMode, options));
  return files;
}
