/**
 * v2 has no devices files: access to device nodes is decided by a BPF_CGROUP_DEVICE program
 * attached to the cgroup. Building and attaching that program is the caller's part; this driver
 * only keeps the rules (deviceRules()) so the caller can build it from the same list.
 */
import type { DeviceRule, Resources } from '../types.js';

export function recordDeviceRules(resources: Resources): DeviceRule[] | undefined {
  return resources.devices?.map((rule) => ({ ...rule }));
}
