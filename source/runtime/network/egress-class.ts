/**
 * net_cls class ids and net_prio priorities on the container's own interfaces.
 *
 * net_cls: the kernel tags every packet a container's sockets send with its cgroup's class id,
 * but only the `cgroup` tc classifier (cls_cgroup) reads that tag, and many kernels do not have it
 * loaded. One nftables rule in the container's network namespace copies the class id into the
 * packet's priority, which every classful qdisc (HTB, HFSC, DRR) takes as the class to put it in:
 * a qdisc on the container's eth0 then classifies its egress by class id either way. The rule
 * follows the cgroup's class id (`meta cgroup`), so a later `gantry update --net-cls-classid`
 * needs no new rule; packets of a cgroup without one keep theirs.
 *
 * net_prio: the kernel's ifpriomap only knows the interfaces of the host's first network
 * namespace (init_net), so `--net-prio eth0=N` written to the cgroup never reaches a bridge
 * container's eth0, which lives in the container's own namespace. Every process sending from that
 * namespace is the container's, so a rule there does what net_prio would: a packet leaving by the
 * named interface with no priority yet gets N. A class id, when set, is the priority already
 * (net_cls first), as a socket's own SO_PRIORITY is.
 */
import { findTool, mustRun, requireTool } from './tools.js';

export const CLASS_TABLE = 'gantry_class';

export interface EgressMarks {
  /** Copy the net_cls class id into the priority. */
  classid: boolean;
  /** --net-prio: interface name in the container -> priority. */
  priorities: Record<string, number>;
}

/** A priority as nftables writes one: tc's "major:minor" in hex. */
function tcHandle(value: number): string {
  return `${(value >>> 16).toString(16)}:${(value & 0xffff).toString(16)}`;
}

export function egressRules(marks: EgressMarks): string {
  const rules: string[] = [];
  if (marks.classid) rules.push('    meta cgroup != 0 meta priority set meta cgroup');
  for (const [name, priority] of Object.entries(marks.priorities))
    rules.push(
      `    oifname ${JSON.stringify(name)} meta priority none meta priority set ${tcHandle(priority)}`,
    );
  return [
    `table inet ${CLASS_TABLE}`,
    `delete table inet ${CLASS_TABLE}`,
    `table inet ${CLASS_TABLE} {`,
    '  chain output {',
    '    type filter hook output priority 0; policy accept;',
    ...rules,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Whether this host can apply class ids on the container's interface (it needs `nft`). */
export function canClassifyEgress(): boolean {
  return findTool('nft') !== undefined;
}

/** Installs the rules in the network namespace of process `pid` (a container's init). */
export async function classifyEgress(pid: number, marks: EgressMarks): Promise<void> {
  const nsenter = requireTool('nsenter', 'classifying the container traffic', 'util-linux');
  const nft = requireTool('nft', 'classifying the container traffic by net_cls class id', 'nftables');
  await mustRun(
    nsenter,
    [`--net=/proc/${pid}/ns/net`, '--', nft, '-f', '-'],
    'classify the container traffic',
    egressRules(marks),
  );
}
