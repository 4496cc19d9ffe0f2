/** The files the engine manages for each container: /etc/hostname, /etc/hosts, /etc/resolv.conf. */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { atomicWriteFile } from '../fsutil.js';

export interface EtcFiles {
  hostname: string;
  hosts: string;
  resolvConf: string;
}

function hostResolvConf(networkMode: string): string {
  let text = '';
  try {
    text = fs.readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
  if (networkMode === 'host') return text;
  // A nameserver on the host's loopback is unreachable from the container's own network stack.
  return text
    .split('\n')
    .filter((line) => !/^\s*nameserver\s+(127\.|::1\s*$)/.test(line))
    .join('\n');
}

export async function writeEtcFiles(
  directory: string,
  hostname: string,
  networkMode: string,
): Promise<EtcFiles> {
  const files: EtcFiles = {
    hostname: path.join(directory, 'hostname'),
    hosts: path.join(directory, 'hosts'),
    resolvConf: path.join(directory, 'resolv.conf'),
  };
  const hosts =
    networkMode === 'host'
      ? await fsp.readFile('/etc/hosts', 'utf8').catch(() => '127.0.0.1\tlocalhost\n')
      : [
          '127.0.0.1\tlocalhost',
          '::1\tlocalhost ip6-localhost ip6-loopback',
          'fe00::0\tip6-localnet',
          'ff00::0\tip6-mcastprefix',
          'ff02::1\tip6-allnodes',
          'ff02::2\tip6-allrouters',
          `127.0.1.1\t${hostname}`,
          '',
        ].join('\n');
  await atomicWriteFile(files.hostname, `${hostname}\n`);
  await atomicWriteFile(files.hosts, hosts);
  await atomicWriteFile(files.resolvConf, hostResolvConf(networkMode));
  return files;
}
