/**
 * The nftables backend: the whole model as one `table ip gantry`, replaced atomically by a single
 * `nft -f` transaction ("add table; delete table; table {...}"), and the table deleted when no
 * network is active. Other tables (the host's own, iptables-nft's) are never touched.
 */
import { mustRun, requireTool } from '../tools.js';
import type { FirewallModel } from './model.js';

export const NFT_TABLE = 'gantry';

function quote(text: string): string {
  return `"${text.replace(/["\\]/g, '')}"`;
}

/** The table's text for a model with at least one bridge. */
export function renderNftables(model: FirewallModel): string {
  const lines: string[] = [`table ip ${NFT_TABLE} {`];
  const chain = (name: string, header: string | undefined, rules: string[]) => {
    lines.push(`  chain ${name} {`);
    if (header) lines.push(`    ${header}`);
    for (const rule of rules) lines.push(`    ${rule}`);
    lines.push('  }');
  };
  // Published ports: connections to an address of this host, from outside (prerouting) or from
  // the host itself (output), are sent to the container.
  chain('prerouting', 'type nat hook prerouting priority dstnat; policy accept;', [
    'fib daddr type local jump hostports',
  ]);
  chain('output', 'type nat hook output priority -100; policy accept;', [
    'fib daddr type local jump hostports',
  ]);
  chain(
    'hostports',
    undefined,
    model.dnat.map(
      (rule) =>
        `${rule.hostIp ? `ip daddr ${rule.hostIp} ` : ''}${rule.protocol} dport ${rule.hostPort} dnat to ${rule.address}:${rule.containerPort} comment ${quote(rule.owner)}`,
    ),
  );
  const postrouting: string[] = [];
  for (const bridge of model.bridges) {
    const name = quote(bridge.bridge);
    // A connection to 127.0.0.1:PORT leaves with a loopback source (route_localnet lets it out);
    // a container's connection to a published port of its own network comes back to the bridge
    // (hairpin). Both get the gateway's address, so the reply comes back through conntrack.
    postrouting.push(`oifname ${name} ip saddr 127.0.0.0/8 masquerade`);
    postrouting.push(`oifname ${name} ct status dnat ip saddr ${bridge.subnet} masquerade`);
    if (!bridge.internal) postrouting.push(`ip saddr ${bridge.subnet} oifname != ${name} masquerade`);
  }
  chain('postrouting', 'type nat hook postrouting priority srcnat; policy accept;', postrouting);
  const forward: string[] = [];
  for (const bridge of model.bridges) {
    const name = quote(bridge.bridge);
    const others = model.bridges
      .filter((other) => other.bridge !== bridge.bridge)
      .map((other) => quote(other.bridge));
    // Networks do not reach each other (docker's isolation); an internal one reaches nothing.
    if (others.length > 0) forward.push(`iifname ${name} oifname { ${others.join(', ')} } drop`);
    if (bridge.internal) {
      forward.push(`iifname ${name} oifname != ${name} drop`);
      forward.push(`oifname ${name} iifname != ${name} drop`);
    }
  }
  chain('forward', 'type filter hook forward priority filter; policy accept;', forward);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

export async function applyNftables(model: FirewallModel): Promise<void> {
  const nft = requireTool('nft', 'bridge networking (masquerade, published ports)', 'nftables');
  // "add" first makes the delete succeed on a host without the table; one file is one transaction.
  const script =
    model.bridges.length === 0
      ? `table ip ${NFT_TABLE}\ndelete table ip ${NFT_TABLE}\n`
      : `table ip ${NFT_TABLE}\ndelete table ip ${NFT_TABLE}\n${renderNftables(model)}`;
  await mustRun(nft, ['-f', '-'], 'update the firewall (nftables)', script);
}
