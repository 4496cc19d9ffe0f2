/** v1 net_prio: egress priority per network interface ("iface prio" lines of ifpriomap). */
import path from 'node:path';
import type { V1ResourceController } from './controller.js';

function parsePriomap(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [iface, priority] = line.trim().split(/\s+/);
    if (iface && priority !== undefined) map.set(iface, priority);
  }
  return map;
}

export const netPrioController: V1ResourceController = {
  name: 'net_prio',
  wants: (r) => r.netPrioIfpriomap !== undefined,
  async apply(context, r) {
    const file = path.join(context.dir, 'net_prio.ifpriomap');
    const entries = Object.entries(r.netPrioIfpriomap ?? {});
    if (entries.length === 0) return;
    const before = parsePriomap(await context.fs.readFile(file));
    for (const [iface, priority] of entries) {
      await context.journal.write(file, `${iface} ${priority}`, {
        what: `net priority ${priority} for ${iface}`,
        restore: `${iface} ${before.get(iface) ?? '0'}`,
        explain: async (code) =>
          code === 'ENODEV'
            ? `net priority for ${iface} is refused: the host has no interface ${iface} (net_prio.ifpriomap names interfaces of the host's initial network namespace)`
            : undefined,
      });
    }
  },
};
