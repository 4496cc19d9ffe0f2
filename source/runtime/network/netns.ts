/**
 * The network namespace gantry runs in, by identity. The kernel side of a state root's networks
 * (bridges, rules) lives in one namespace; a gantry process elsewhere (a test's `nsenter`, a
 * shell in another namespace) must neither build a second copy nor tear down what it cannot see.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface NetnsIdentity {
  dev: number;
  ino: number;
}

export function currentNetns(): NetnsIdentity {
  const stat = fs.statSync('/proc/self/ns/net');
  return { dev: stat.dev, ino: stat.ino };
}

export function sameNetns(a: NetnsIdentity, b: NetnsIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/**
 * Whether a namespace still exists: some process is in it, or `ip netns` keeps it mounted. A
 * namespace that is gone took its bridges, veths and rules with it.
 */
export function netnsAlive(identity: NetnsIdentity): boolean {
  const matches = (file: string) => {
    try {
      const stat = fs.statSync(file);
      return stat.ino === identity.ino && stat.dev === identity.dev;
    } catch {
      return false;
    }
  };
  for (const directory of ['/run/netns', '/var/run/netns']) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(directory);
    } catch {
      continue;
    }
    if (names.some((name) => matches(path.join(directory, name)))) return true;
  }
  for (const entry of fs.readdirSync('/proc')) {
    if (/^\d+$/.test(entry) && matches(`/proc/${entry}/ns/net`)) return true;
  }
  return false;
}
