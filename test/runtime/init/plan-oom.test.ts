import { describe, expect, it } from 'vitest';
import { serializePlan, type HelperPlan } from '../../../source/runtime/init/plan.js';

const base: HelperPlan = {
  mode: 'init',
  namespaces: [],
  cgroupProcs: [],
  mounts: [],
  devices: [],
  symlinks: [],
  mkdirs: [],
  maskedPaths: [],
  readonlyPaths: [],
  sysctl: {},
  hooks: [],
  process: {
    args: ['true'],
    env: [],
    cwd: '/',
    uid: 0,
    gid: 0,
    additionalGids: [],
    rlimits: [],
    noNewPrivileges: false,
  },
};

describe('OOM notification in the plan', () => {
  it('tells the monitor where to register (v1 eventfd) and where to append events', () => {
    const lines = serializePlan({
      ...base,
      oomCounter: {
        file: '/sys/fs/cgroup/memory/g/x/memory.oom_control',
        key: 'oom_kill',
        eventControl: '/sys/fs/cgroup/memory/g/x/cgroup.event_control',
      },
      eventsFile: 'events',
    }).split('\n');
    expect(lines).toContain('oom /sys/fs/cgroup/memory/g/x/memory.oom_control oom_kill');
    expect(lines).toContain('oomcontrol /sys/fs/cgroup/memory/g/x/cgroup.event_control');
    expect(lines).toContain('events events');
  });

  it('leaves the registration out on v2, where the monitor watches memory.events', () => {
    const text = serializePlan({
      ...base,
      oomCounter: { file: '/sys/fs/cgroup/g/x/memory.events', key: 'oom_kill' },
      eventsFile: 'events',
    });
    expect(text).toContain('oom /sys/fs/cgroup/g/x/memory.events oom_kill\n');
    expect(text).not.toContain('oomcontrol');
  });
});
