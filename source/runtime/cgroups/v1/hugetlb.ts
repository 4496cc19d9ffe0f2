/** v1 hugetlb: a limit per huge page size (hugetlb.2MB.limit_in_bytes). */
import path from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import type { V1ResourceController } from './controller.js';

export const hugetlbController: V1ResourceController = {
  name: 'hugetlb',
  wants: (r) => r.hugepageLimits !== undefined,
  async apply(context, r) {
    for (const [size, limit] of Object.entries(r.hugepageLimits ?? {})) {
      const file = path.join(context.dir, `hugetlb.${size}.limit_in_bytes`);
      if (!(await context.fs.exists(file))) {
        const sizes = (await context.fs.readdir(context.dir))
          .map((name) => /^hugetlb\.(.+)\.limit_in_bytes$/.exec(name)?.[1])
          .filter((name): name is string => name !== undefined);
        throw new InvalidArgumentError(`the host has no ${size} huge pages`, {
          hint: `sizes this host offers: ${sizes.join(', ') || 'none'}`,
        });
      }
      await context.journal.write(file, String(limit), { what: `hugetlb ${size} limit ${limit}` });
    }
  },
};
