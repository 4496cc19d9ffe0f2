/**
 * The iptables backend, for hosts without nft: gantry's own chains (GANTRY-*) in the nat and
 * filter tables, refilled whole by one `iptables-restore --noflush` (declaring a chain there
 * flushes it, and each table commits atomically), with one jump from each built-in chain. When no
 * network is active the jumps and chains are removed.
 */
import { mustRun, requireTool } from '../tools.js';
import type { FirewallModel } from './model.js';

const NAT_CHAINS = ['GANTRY-PREROUTING', 'GANTRY-OUTPUT', 'GANTRY-HOSTPORTS', 'GANTRY-POSTROUTING'];
const FILTER_CHAINS = ['GANTRY-FORWARD'];
const JUMPS: { table: 'nat' | 'filter'; from: string; to: string }[] = [
  { table: 'nat', from: 'PREROUTING', to: 'GANTRY-PREROUTING' },
  { table: 'nat', from: 'OUTPUT', to: 'GANTRY-OUTPUT' },
  { table: 'nat', from: 'POSTROUTING', to: 'GANTRY-POSTROUTING' },
  { table: 'filter', from: 'FORWARD', to: 'GANTRY-FORWARD' },
];

function comment(text: string): string {
  return text.replace(/[^A-Za-z0-9:._-]/g, '');
}

/** Which of gantry's jumps and chains `iptables-save` shows. */
export function presentIn(save: string): { jumps: Set<string>; chains: Set<string> } {
  const jumps = new Set<string>();
  const chains = new Set<string>();
  for (const line of save.split('\n')) {
    const jump = /^-A (PREROUTING|OUTPUT|POSTROUTING|FORWARD) -j (GANTRY-[A-Z]+)$/.exec(line);
    if (jump) jumps.add(`${jump[1]}>${jump[2]}`);
    const chain = /^:(GANTRY-[A-Z]+) /.exec(line);
    if (chain) chains.add(chain[1]!);
  }
  return { jumps, chains };
}

/** iptables-restore input that makes gantry's chains match the model. */
export function renderIptables(
  model: FirewallModel,
  present: { jumps: Set<string>; chains: Set<string> },
): string {
  const out: string[] = [];
  const active = model.bridges.length > 0;
  for (const table of ['nat', 'filter'] as const) {
    const chains = table === 'nat' ? NAT_CHAINS : FILTER_CHAINS;
    if (!active && !chains.some((chain) => present.chains.has(chain))) continue;
    out.push(`*${table}`);
    for (const chain of chains) out.push(`:${chain} - [0:0]`);
    if (active) {
      if (table === 'nat') {
        out.push('-A GANTRY-PREROUTING -m addrtype --dst-type LOCAL -j GANTRY-HOSTPORTS');
        out.push('-A GANTRY-OUTPUT -m addrtype --dst-type LOCAL -j GANTRY-HOSTPORTS');
        for (const rule of model.dnat) {
          out.push(
            `-A GANTRY-HOSTPORTS${rule.hostIp ? ` -d ${rule.hostIp}/32` : ''} -p ${rule.protocol} -m ${rule.protocol} --dport ${rule.hostPort} -m comment --comment ${comment(rule.owner)} -j DNAT --to-destination ${rule.address}:${rule.containerPort}`,
          );
        }
        for (const bridge of model.bridges) {
          out.push(`-A GANTRY-POSTROUTING -s 127.0.0.0/8 -o ${bridge.bridge} -j MASQUERADE`);
          out.push(
            `-A GANTRY-POSTROUTING -s ${bridge.subnet} -o ${bridge.bridge} -m conntrack --ctstate DNAT -j MASQUERADE`,
          );
          if (!bridge.internal)
            out.push(`-A GANTRY-POSTROUTING -s ${bridge.subnet} ! -o ${bridge.bridge} -j MASQUERADE`);
        }
      } else {
        for (const bridge of model.bridges) {
          for (const other of model.bridges)
            if (other.bridge !== bridge.bridge)
              out.push(`-A GANTRY-FORWARD -i ${bridge.bridge} -o ${other.bridge} -j DROP`);
          if (bridge.internal) {
            out.push(`-A GANTRY-FORWARD -i ${bridge.bridge} ! -o ${bridge.bridge} -j DROP`);
            out.push(`-A GANTRY-FORWARD ! -i ${bridge.bridge} -o ${bridge.bridge} -j DROP`);
          }
        }
      }
    }
    for (const jump of JUMPS.filter((candidate) => candidate.table === table)) {
      const has = present.jumps.has(`${jump.from}>${jump.to}`);
      if (active && !has) out.push(`-I ${jump.from} -j ${jump.to}`);
      if (!active && has) out.push(`-D ${jump.from} -j ${jump.to}`);
    }
    if (!active) for (const chain of chains) out.push(`-X ${chain}`);
    out.push('COMMIT');
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

export async function applyIptables(model: FirewallModel): Promise<void> {
  const save = requireTool('iptables-save', 'bridge networking (masquerade, published ports)', 'iptables');
  const restore = requireTool(
    'iptables-restore',
    'bridge networking (masquerade, published ports)',
    'iptables',
  );
  const current = await mustRun(save, [], 'read the firewall (iptables-save)');
  const input = renderIptables(model, presentIn(current));
  if (input !== '') await mustRun(restore, ['--noflush'], 'update the firewall (iptables)', input);
}
