/** The figures stats derives (docker's CPU %, % of quota, memory %, network bytes) and the monitor's event lines. */
import { describe, expect, it } from 'vitest';
import type { CgroupManager, CgroupStats } from '../../../source/runtime/cgroups/types.js';
import { parseMonitorEvents } from '../../../source/runtime/containers/events.js';
import type { ContainerRecord } from '../../../source/runtime/containers/record.js';
import { parseNetDev, StatsSampler, systemCpuNanos } from '../../../source/runtime/containers/stats.js';

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
  eth0:  123456     100    0    0    0     0          0         0     7890      50    0    0    0     0       0          0
  eth1:     100       1    0    0    0     0          0         0       10       1    0    0    0     0       0          0
`;

function procStat(totalTicks: number): string {
  // user nice system idle iowait irq softirq steal: docker sums the first seven.
  return `cpu  ${totalTicks - 60} 10 10 10 10 10 10 999\ncpu0 1 2 3 4 5 6 7 8\nintr 1\n`;
}

function record(overrides: Partial<ContainerRecord['State']> = {}, network = 'none'): ContainerRecord {
  return {
    Id: 'a'.repeat(64),
    Name: 'web',
    Created: '2024-01-01T00:00:00Z',
    Image: 'sha256:x',
    ImageName: 'demo',
    Config: {} as ContainerRecord['Config'],
    HostConfig: { NetworkMode: network } as ContainerRecord['HostConfig'],
    State: {
      Status: 'running',
      Pid: 4242,
      ExitCode: 0,
      OOMKilled: false,
      Error: '',
      StartedAt: '2024-01-01T00:00:01Z',
      FinishedAt: '0001-01-01T00:00:00Z',
      ...overrides,
    },
    RestartCount: 0,
    Mounts: [],
    LayerDirs: [],
  };
}

function cgroupWith(samples: CgroupStats[]): CgroupManager {
  let index = 0;
  return { stats: async () => samples[Math.min(index++, samples.length - 1)] } as unknown as CgroupManager;
}

describe('stats figures', () => {
  it('sums host CPU time the way docker does (user..softirq, in ns)', () => {
    expect(systemCpuNanos(procStat(1000))).toBe(1000 * 1e7);
    expect(systemCpuNanos('nothing here')).toBeUndefined();
  });

  it('counts network bytes of every interface but lo', () => {
    expect(parseNetDev(NET_DEV)).toEqual({ rx: 123556, tx: 7900 });
    expect(parseNetDev(NET_DEV.split('\n').slice(0, 3).join('\n'))).toEqual({ rx: 0, tx: 0 });
  });

  it('computes CPU % from two samples: of the host (docker) and of the own quota', async () => {
    const files: Record<string, string> = { '/proc/stat': procStat(10_000), '/proc/4242/net/dev': NET_DEV };
    let clock = 0n;
    const sampler = new StatsSampler({
      readFile: async (file) => files[file] ?? '',
      now: () => clock,
      onlineCpus: 2,
      memoryBytes: 1000 * 1024 * 1024,
    });
    const cgroup = cgroupWith([
      {
        time: 1,
        cpu: { usageNanos: 1e9, quotaCpus: 0.5 },
        memory: { usage: 300, workingSet: 200, oomKills: 0, limit: 1000 },
      },
      {
        time: 2,
        cpu: { usageNanos: 1.5e9, quotaCpus: 0.5 },
        memory: { usage: 300, workingSet: 250, oomKills: 0 },
      },
    ]);
    const first = await sampler.sample(record(), cgroup);
    expect(first.cpuPercent).toBeUndefined();
    expect(first.cpuQuotaPercent).toBeUndefined();
    expect(first.memoryLimit).toBe(1000);
    expect(first.memoryPercent).toBe(20);
    expect(first.netRxBytes).toBe(123556);

    // One second later: the host spent 2 CPU-seconds (2 CPUs), the container 0.5 of them.
    files['/proc/stat'] = procStat(10_200);
    clock = 1_000_000_000n;
    const second = await sampler.sample(record(), cgroup);
    expect(second.cpuPercent).toBeCloseTo(50, 6);
    expect(second.cpuQuotaPercent).toBeCloseTo(100, 6);
    // Without a cgroup limit the host's memory is the limit, as docker shows it.
    expect(second.memoryLimit).toBe(1000 * 1024 * 1024);
    expect(second.memoryPercent).toBeCloseTo((250 / (1000 * 1024 * 1024)) * 100, 10);
  });

  it('starts over when the container was restarted (its usage counter begins again)', async () => {
    const files: Record<string, string> = { '/proc/stat': procStat(10_000) };
    const sampler = new StatsSampler({
      readFile: async (file) => files[file] ?? '',
      now: () => 0n,
      onlineCpus: 1,
    });
    const cgroup = cgroupWith([
      { time: 1, cpu: { usageNanos: 5e9 } },
      { time: 2, cpu: { usageNanos: 1e8 } },
    ]);
    await sampler.sample(record(), cgroup);
    files['/proc/stat'] = procStat(10_100);
    const restarted = await sampler.sample(record({ StartedAt: '2024-01-01T01:00:00Z' }), cgroup);
    expect(restarted.cpuPercent).toBeUndefined();
  });

  it('gives no network figures for --net host and empty figures for a stopped container', async () => {
    const sampler = new StatsSampler({ readFile: async () => NET_DEV, now: () => 0n, onlineCpus: 1 });
    const hostNet = await sampler.sample(record({}, 'host'), cgroupWith([{ time: 1 }]));
    expect(hostNet.netRxBytes).toBeUndefined();
    const stopped = await sampler.sample(record({ Status: 'exited', Pid: 0 }), cgroupWith([{ time: 1 }]));
    expect(stopped.status).toBe('exited');
    expect(stopped.cgroup.memory).toBeUndefined();
    expect(stopped.cpuPercent).toBeUndefined();
  });
});

describe("the monitor's event lines", () => {
  it('reads "TIMESTAMP oom COUNT" and skips anything else', () => {
    expect(
      parseMonitorEvents(
        '2024-05-01T10:00:00.123456789Z oom 1\ngarbage\n2024-05-01T10:00:01.000000000Z oom 2\n',
      ),
    ).toEqual([
      { time: Date.parse('2024-05-01T10:00:00.123Z'), action: 'oom', count: 1 },
      { time: Date.parse('2024-05-01T10:00:01Z'), action: 'oom', count: 2 },
    ]);
  });
});
