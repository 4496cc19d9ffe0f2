/** v2 hugetlb controller: hugetlb.<size>.max per huge page size. */
import path from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { maxOrNumber } from '../convert.js';
import type { V2ResourceController } from './controller.js';

export const hugetlbController: V2ResourceController = {
  name: 'hugetlb',
  wants: (r) => r.hugepageLimits !== undefined,
  async apply(context, r) {
    for (const [size, limit] of Object.entries(r.hugepageLimits ?? {})) {
      const file = path.join(context.dir, `hugetlb.${size}.max`);
      if (!(await context.fs.exists(file))) {
        const sizes = (await context.fs.readdir(context.dir))
          .map((name) => /^hugetlb\.([^.]+)\.max$/.exec(name)?.[1])
          .filter((name): name is string => name !== undefined);
        throw new InvalidArgumentError(`the host has no ${size} huge pages`, {
          hint: `sizes this host offers: ${sizes.join(', ') || 'none'}`,
        });
      }
      await context.journal.write(file, maxOrNumber(limit), { what: `hugetlb ${size} limit ${limit}` });
    }
  },
};
