/** How the helper's plan is written: one directive per line, fields percent-encoded. */
import { describe, expect, it } from 'vitest';
import { encodeField, serializePlan } from '../../../source/runtime/init/plan.js';
import { samplePlan } from './sample-plan.js';

describe('plan encoding', () => {
  it('percent-encodes what would break a line and keeps UTF-8 as it is', () => {
    expect(encodeField('a b')).toBe('a%20b');
    expect(encodeField('100%')).toBe('100%25');
    expect(encodeField('')).toBe('%');
    expect(encodeField('line\nbreak\ttab')).toBe('line%0Abreak%09tab');
    expect(encodeField('héllo wörld')).toBe('héllo%20wörld');
  });

  it('writes one directive per line, ending with "end"', () => {
    const text = serializePlan(samplePlan);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('version 1');
    expect(lines[1]).toBe('mode init');
    expect(lines.at(-1)).toBe('end');
    expect(lines).toContain('ns pid');
    expect(lines).toContain('ns net /proc/1/ns/net');
    expect(lines).toContain('mount proc /proc proc 14 0 %');
    expect(lines).toContain('mkdev /dev/null c 1 3 438 0 0');
    const bound = serializePlan({
      ...samplePlan,
      devices: [
        {
          path: '/dev/null',
          type: 'c',
          major: 1,
          minor: 3,
          mode: 0o666,
          uid: 0,
          gid: 0,
          bindFrom: '/dev/null',
        },
      ],
    });
    expect(bound.split('\n')).toContain('bindev /dev/null c 1 3 /dev/null');
    expect(lines).toContain('arg echo%20"a%20b"%20100%25');
    expect(lines).toContain('env EMPTY=');
    expect(lines).toContain('groups 10 20');
    expect(lines).toContain('rlimit 7 1024 inf');
    expect(lines).toContain('caps 0xa80425fb 0xa80425fb 0xa80425fb 0x0 0x0');
    expect(lines).toContain('nnp');
    expect(lines).toContain('sysctl net.ipv4.ip_forward 1');
    // Every field is separated by exactly one space, so no field may contain one.
    for (const line of lines) expect(line).not.toMatch(/ {2}|\t/);
  });

  it('tells the monitor the log rotation: bytes per file and files kept', () => {
    const lines = serializePlan({
      ...samplePlan,
      logPath: 'ctr.log',
      logMax: { size: 20971520, files: 5 },
    }).split('\n');
    expect(lines).toContain('log ctr.log');
    expect(lines).toContain('logmax 20971520 5');
  });

  it('keeps the order of mounts, which the helper follows', () => {
    const plan = {
      ...samplePlan,
      mounts: [
        { source: 'tmpfs', destination: '/dev', type: 'tmpfs', flags: 0, propagation: 0, data: 'mode=755' },
        {
          source: 'devpts',
          destination: '/dev/pts',
          type: 'devpts',
          flags: 0,
          propagation: 0,
          data: 'newinstance',
        },
      ],
    };
    const mounts = serializePlan(plan)
      .split('\n')
      .filter((l) => l.startsWith('mount '));
    expect(mounts.map((l) => l.split(' ')[2])).toEqual(['/dev', '/dev/pts']);
  });

  it('ends a mount line with the words mount(2) flags cannot say: recursive attributes and tmpcopyup', () => {
    const lines = serializePlan({
      ...samplePlan,
      mounts: [
        {
          source: 'tmpfs',
          destination: '/data',
          type: 'tmpfs',
          flags: 2,
          propagation: 0,
          data: 'size=1m',
          recursive: { set: 1, clear: 0x70 },
          copyUp: true,
        },
        { source: '/srv', destination: '/srv', type: 'bind', flags: 0x5000, propagation: 0, data: '' },
      ],
    }).split('\n');
    expect(lines).toContain('mount tmpfs /data tmpfs 2 0 size=1m recursive=1:112 tmpcopyup');
    expect(lines).toContain('mount /srv /srv bind 20480 0 %');
  });

  it('names the AppArmor profile and the session keyring the helper applies, and nothing without them', () => {
    const lines = serializePlan({
      ...samplePlan,
      sessionKeyring: '_ses.abc',
      mountLabel: 'u:object_r:f_t:s0:c1,c2',
      process: { ...samplePlan.process, apparmorProfile: 'gantry-test', selinuxLabel: 'u:r:t:s0:c1,c2' },
    }).split('\n');
    expect(lines).toContain('apparmor gantry-test');
    expect(lines).toContain('selinux u:r:t:s0:c1,c2');
    expect(lines).toContain('mountlabel u:object_r:f_t:s0:c1,c2');
    expect(lines).toContain('keyring _ses.abc');
    const bare = serializePlan(samplePlan).split('\n');
    expect(bare.some((l) => /^(apparmor|selinux|mountlabel|keyring) /.test(l))).toBe(false);
  });

  it('carries the test pause point (tests only) as the last directive', () => {
    const text = serializePlan({
      ...samplePlan,
      testPause: { point: 'joined', ready: '/t/p q/ready', go: '/t/p q/go' },
    });
    expect(text.trimEnd().split('\n').slice(-2)).toEqual([
      'testpause joined /t/p%20q/ready /t/p%20q/go',
      'end',
    ]);
    expect(serializePlan(samplePlan)).not.toContain('testpause');
  });
});
