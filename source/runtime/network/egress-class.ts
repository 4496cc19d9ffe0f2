/**
 * net_cls class ids on the container's own interface. The kernel tags every packet a container's
 * sockets send with its cgroup's class id, but only the `cgroup` tc classifier (cls_cgroup) reads
 * that tag, and many kernels do not have it loaded. One nftables rule in the container's network
 * namespace copies the class id into the packet's priority, which every classful qdisc (HTB, HFSC,
 * DRR) takes as the class to put it in: a qdisc on the container's eth0 then classifies its egress
 * by class id either way. The rule follows the cgroup's class id (`meta cgroup`), so a later
 * `gantry update --net-cls-classid` needs no new rule; packets of a cgroup without one keep theirs.
 */
import { findTool, mustRun, requireTool } from './tools.js';

export const CLASS_TABLE = 'gantry_class';

export const CLASS_RULES = [
  `table inet ${CLASS_TABLE}`,
  `delete table inet ${CLASS_TABLE}`,
  `table inet ${CLASS_TABLE} {`,
  '  chain output {',
  '    type filter hook output priority 0; policy accept;',
  '    meta cgroup != 0 meta priority set meta cgroup',
  '  }',
  '}',
  '',
].join('\n');

/** Whether this host can apply class ids on the container's interface (it needs `nft`). */
export function canClassifyEgress(): boolean {
  return findTool('nft') !== undefined;
}

/** Installs the rule in the network namespace of process `pid` (a container's init). */
export async function classifyEgress(pid: number): Promise<void> {
  const nsenter = requireTool('nsenter', 'classifying the container traffic', 'util-linux');
  const nft = requireTool('nft', 'classifying the container traffic by net_cls class id', 'nftables');
  await mustRun(
    nsenter,
    [`--net=/proc/${pid}/ns/net`, '--', nft, '-f', '-'],
    'classify the container traffic',
    CLASS_RULES,
  );
}
