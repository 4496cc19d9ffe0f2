/**
 * v1 devices controller. The rules replace the whole list: everything is denied first, then the
 * rules are written in order, so a container never keeps access it was not given.
 */
import path from 'node:path';
import type { CgroupFs } from '../fs.js';
import type { DeviceRule } from '../types.js';
import { formatDeviceRule } from '../values.js';
import type { V1ApplyContext, V1ResourceController } from './controller.js';

async function writeRule(context: V1ApplyContext, rule: DeviceRule): Promise<void> {
  const text = formatDeviceRule(rule);
  const file = path.join(context.dir, rule.allow ? 'devices.allow' : 'devices.deny');
  await context.journal.writeOnly(file, rule.type === 'a' ? 'a' : text, {
    what: `device rule "${rule.allow ? 'allow' : 'deny'} ${text}"`,
    explain: async (code) =>
      code === 'EPERM'
        ? `device rule "allow ${text}" is refused: the parent cgroup does not allow that device, and a cgroup can only narrow its parent's rules`
        : undefined,
  });
}

/** Puts back a list as devices.list showed it ("a *:* rwm" when everything was allowed). */
async function restoreList(cgroupFs: CgroupFs, dir: string, list: string[]): Promise<void> {
  await cgroupFs.writeFile(path.join(dir, 'devices.deny'), 'a');
  for (const line of list) {
    await cgroupFs.writeFile(path.join(dir, 'devices.allow'), line.startsWith('a ') ? 'a' : line);
  }
}

export const devicesController: V1ResourceController = {
  name: 'devices',
  wants: (r) => r.devices !== undefined,
  async apply(context, r) {
    if (r.devices === undefined) return;
    const listFile = path.join(context.dir, 'devices.list');
    const before = (await context.fs.readFile(listFile)).split('\n').filter((line) => line.trim() !== '');
    context.journal.addUndo(`device rules (${before.join(', ')})`, () =>
      restoreList(context.fs, context.dir, before),
    );
    await writeRule(context, { allow: false, type: 'a', major: -1, minor: -1, access: 'rwm' });
    for (const rule of r.devices) await writeRule(context, rule);
  },
};

/** The rules in force, as the kernel lists them. */
export async function readDeviceList(cgroupFs: CgroupFs, dir: string): Promise<string[]> {
  return (await cgroupFs.readFile(path.join(dir, 'devices.list')))
    .split('\n')
    .filter((line) => line.trim() !== '');
}
