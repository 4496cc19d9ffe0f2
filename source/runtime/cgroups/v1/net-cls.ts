/** v1 net_cls: the class id the container's egress packets carry (for tc and netfilter). */
import path from 'node:path';
import type { V1ResourceController } from './controller.js';

export const netClsController: V1ResourceController = {
  name: 'net_cls',
  wants: (r) => r.netClsClassid !== undefined,
  async apply(context, r) {
    if (r.netClsClassid === undefined) return;
    await context.journal.write(path.join(context.dir, 'net_cls.classid'), String(r.netClsClassid), {
      what: `net_cls classid 0x${r.netClsClassid.toString(16)}`,
    });
  },
};
