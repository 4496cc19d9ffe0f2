/** The cgroup part of the runtime: one CgroupManager for v1 and v2 hosts, and the flag parsers. */
export * from './types.js';
export { createCgroupManager, type CgroupManagerOptions } from './create-manager.js';
export { removeContainerCgroup } from './remove.js';
export {
  detectCgroupLayout,
  detectFromTree,
  hostCgroupLayout,
  parseMountinfo,
  DEFAULT_CGROUP_ROOT,
  type CgroupLayout,
  type V1Hierarchy,
  type UnifiedHierarchy,
} from './detect.js';
export { hostCgroupFs, type CgroupFs } from './fs.js';
export { hostDeviceFilter, type DeviceFilter } from './v2/devices.js';
export { validateResources } from './validate.js';
export { sharesToWeight, blkioWeightToIoWeight, memorySwapToSwapMax } from './convert.js';
export * from './parse.js';
