/**
 * One helper plan with a directive of each kind the helper's parser reads (strings, flags, lists,
 * numbers, devices, capabilities): plan.test.ts checks how it is written, plan-parse.int.test.ts
 * that the built helper reads it through to its end.
 */
import type { HelperPlan } from '../../../source/runtime/init/plan.js';

export const samplePlan: HelperPlan = {
  mode: 'init',
  namespaces: [{ type: 'pid' }, { type: 'net', path: '/proc/1/ns/net' }],
  cgroupProcs: ['/sys/fs/cgroup/pids/gantry/x/cgroup.procs'],
  mounts: [{ source: 'proc', destination: '/proc', type: 'proc', flags: 14, propagation: 0, data: '' }],
  devices: [{ path: '/dev/null', type: 'c', major: 1, minor: 3, mode: 0o666, uid: 0, gid: 0 }],
  symlinks: [{ target: 'pts/ptmx', path: '/dev/ptmx' }],
  mkdirs: [],
  maskedPaths: ['/proc/kcore'],
  readonlyPaths: ['/proc/sys'],
  sysctl: { 'net.ipv4.ip_forward': '1' },
  hooks: [],
  process: {
    args: ['sh', '-c', 'echo "a b" 100%'],
    env: ['PATH=/bin', 'EMPTY='],
    cwd: '/',
    uid: 0,
    gid: 0,
    additionalGids: [10, 20],
    rlimits: [{ resource: 7, soft: 1024, hard: undefined }],
    capabilities: {
      bounding: 0xa80425fbn,
      effective: 0xa80425fbn,
      permitted: 0xa80425fbn,
      inheritable: 0n,
      ambient: 0n,
    },
    noNewPrivileges: true,
  },
  hostname: 'box',
  // Nothing is done with it: the helper refuses the plan's mode before it would use it.
  rootfs: '/nonexistent',
};
