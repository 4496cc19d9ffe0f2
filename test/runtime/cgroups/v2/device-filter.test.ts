import { describe, expect, it } from 'vitest';
import { defaultDeviceRules, parseDeviceCgroupRule } from '../../../../source/runtime/cgroups/parse.js';
import type { DeviceRule } from '../../../../source/runtime/cgroups/types.js';
import {
  BPF_OP,
  compileDeviceFilter,
  encodeInstructions,
} from '../../../../source/runtime/cgroups/v2/device-filter.js';
import { checkControlFlow, decodeProgram, runDeviceProgram, type DeviceRequest } from '../bpf-interpreter.js';

type Row = [type: 'b' | 'c', major: number, minor: number, access: string, allowed: boolean];

function rule(text: string, allow = true): DeviceRule {
  return { ...parseDeviceCgroupRule(text), allow };
}

/** Runs every row through the encoded program, returning the rows whose verdict differs. */
function mismatches(rules: DeviceRule[], rows: Row[]): string[] {
  const program = encodeInstructions(compileDeviceFilter(rules));
  checkControlFlow(program);
  return rows
    .filter(([type, major, minor, access, allowed]) => {
      const verdict = runDeviceProgram(program, { type, major, minor, access });
      return verdict !== (allowed ? 1 : 0);
    })
    .map(
      ([type, major, minor, access, allowed]) =>
        `${type} ${major}:${minor} ${access} should be ${allowed ? 'allowed' : 'denied'}`,
    );
}

const defaults = defaultDeviceRules();

describe('device filter: docker default rules', () => {
  it('allows the standard character devices and mknod of any node, and denies the rest', () => {
    const rows: Row[] = [
      ['c', 1, 3, 'r', true], // /dev/null
      ['c', 1, 3, 'w', true],
      ['c', 1, 3, 'rw', true],
      ['c', 1, 3, 'm', true],
      ['c', 1, 5, 'rw', true], // /dev/zero
      ['c', 1, 7, 'rw', true], // /dev/full
      ['c', 1, 8, 'r', true], // /dev/random
      ['c', 1, 9, 'r', true], // /dev/urandom
      ['c', 5, 0, 'rw', true], // /dev/tty
      ['c', 5, 2, 'rw', true], // /dev/ptmx
      ['c', 136, 0, 'rw', true], // /dev/pts/0
      ['c', 136, 4095, 'rw', true],
      ['c', 10, 200, 'rw', true], // /dev/net/tun
      ['c', 1, 11, 'r', false], // /dev/kmsg
      ['c', 1, 11, 'w', false],
      ['c', 1, 11, 'm', true], // mknod of any character device
      ['c', 1, 11, 'rwm', false],
      ['c', 1, 1, 'r', false], // /dev/mem
      ['c', 5, 1, 'rw', false], // /dev/console (no longer in runc's list)
      ['c', 10, 229, 'rw', false], // /dev/fuse
      ['c', 4, 0, 'rw', false], // /dev/tty0
      ['c', 137, 0, 'rw', false], // next to the pts range
      ['b', 8, 0, 'r', false], // /dev/sda
      ['b', 8, 0, 'w', false],
      ['b', 8, 0, 'm', true], // mknod of any block device
      ['b', 1, 3, 'r', false], // the type is part of the match
      ['b', 136, 0, 'rw', false],
    ];
    expect(mismatches(defaults, rows)).toEqual([]);
  });

  it('starts by loading type, access, major and minor from bpf_cgroup_dev_ctx', () => {
    const program = compileDeviceFilter(defaults);
    expect(program.slice(0, 6)).toEqual([
      { code: BPF_OP.LDX_MEM_W, dst: 2, src: 1, off: 0, imm: 0 },
      { code: BPF_OP.ALU32_AND_K, dst: 2, src: 0, off: 0, imm: 0xffff },
      { code: BPF_OP.LDX_MEM_W, dst: 3, src: 1, off: 0, imm: 0 },
      { code: BPF_OP.ALU32_RSH_K, dst: 3, src: 0, off: 0, imm: 16 },
      { code: BPF_OP.LDX_MEM_W, dst: 4, src: 1, off: 4, imm: 0 },
      { code: BPF_OP.LDX_MEM_W, dst: 5, src: 1, off: 8, imm: 0 },
    ]);
    // The leading "deny a" becomes the final unconditional deny.
    expect(program.slice(-2)).toEqual([
      { code: BPF_OP.ALU32_MOV_K, dst: 0, src: 0, off: 0, imm: 0 },
      { code: BPF_OP.JMP_EXIT, dst: 0, src: 0, off: 0, imm: 0 },
    ]);
  });

  it('encodes struct bpf_insn: code, dst and src nibbles, s16 off, s32 imm', () => {
    const little = encodeInstructions([{ code: 0x55, dst: 4, src: 1, off: -2, imm: -1 }], 'LE');
    expect([...little]).toEqual([0x55, 0x14, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff]);
    const big = encodeInstructions([{ code: 0x55, dst: 4, src: 1, off: 3, imm: 136 }], 'BE');
    expect([...big]).toEqual([0x55, 0x41, 0x00, 0x03, 0x00, 0x00, 0x00, 0x88]);
    const program = compileDeviceFilter(defaults);
    expect(decodeProgram(encodeInstructions(program))).toEqual(program);
  });
});

describe('device filter: --device and --device-cgroup-rule', () => {
  it('adds the nodes --device maps, with the permissions it names', () => {
    const rules = [
      ...defaults,
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' }, // --device /dev/fuse
      { allow: true, type: 'b', major: 8, minor: 0, access: 'r' }, // --device /dev/sda:/dev/xvda:r
    ] satisfies DeviceRule[];
    expect(
      mismatches(rules, [
        ['c', 10, 229, 'rw', true],
        ['c', 10, 229, 'm', true],
        ['b', 8, 0, 'r', true],
        ['b', 8, 0, 'w', false],
        ['b', 8, 0, 'rw', false],
        ['b', 8, 0, 'm', true], // from "b *:* m"
        ['b', 8, 1, 'r', false],
        ['c', 1, 11, 'r', false],
        ['c', 1, 3, 'rw', true],
      ]),
    ).toEqual([]);
  });

  it('takes wildcards in --device-cgroup-rule', () => {
    const rules = [...defaults, rule('c 189:* rmw'), rule('b 7:* rw'), rule('c *:1 r')];
    expect(
      mismatches(rules, [
        ['c', 189, 0, 'rw', true], // USB
        ['c', 189, 77, 'rw', true],
        ['c', 188, 0, 'rw', false],
        ['b', 7, 3, 'rw', true], // loop
        ['b', 7, 3, 'm', true],
        ['c', 7, 3, 'r', false],
        ['c', 42, 1, 'r', true], // any char minor 1, read
        ['c', 42, 1, 'w', false],
        ['c', 42, 1, 'rw', false],
      ]),
    ).toEqual([]);
  });

  it('allows everything after "a" (--device-cgroup-rule a)', () => {
    const rules = [...defaults, parseDeviceCgroupRule('a')];
    expect(
      mismatches(rules, [
        ['c', 1, 11, 'rw', true],
        ['b', 8, 0, 'rwm', true],
      ]),
    ).toEqual([]);
    // Nothing is checked after an "a" rule: the program is the loads and one verdict.
    expect(compileDeviceFilter(rules)).toHaveLength(8);
  });
});

describe('device filter: the last matching rule wins, per access bit', () => {
  it('lets a later rule override an earlier one, either way', () => {
    const deny = (text: string): DeviceRule => rule(text, false);
    expect(mismatches([deny('c 1:3 rwm'), rule('c 1:3 rwm')], [['c', 1, 3, 'rw', true]])).toEqual([]);
    expect(
      mismatches(
        [rule('c 1:3 rwm'), deny('c 1:3 rwm')],
        [
          ['c', 1, 3, 'r', false],
          ['c', 1, 3, 'm', false],
        ],
      ),
    ).toEqual([]);
  });

  it('denies an O_RDWR open when a later rule denies only writing', () => {
    const rules = [...defaults, rule('c 1:3 w', false)];
    expect(
      mismatches(rules, [
        ['c', 1, 3, 'r', true],
        ['c', 1, 3, 'w', false],
        ['c', 1, 3, 'rw', false],
        ['c', 1, 3, 'm', true],
        ['c', 1, 5, 'w', true],
      ]),
    ).toEqual([]);
  });

  it('allows an O_RDWR open that two rules allow between them', () => {
    const rules = [defaults[0] as DeviceRule, rule('c 1:3 r'), rule('c 1:3 w')];
    expect(
      mismatches(rules, [
        ['c', 1, 3, 'rw', true],
        ['c', 1, 3, 'm', false],
        ['c', 1, 3, 'rwm', false],
      ]),
    ).toEqual([]);
  });

  it('punches a hole in an earlier wildcard allow', () => {
    const rules = [defaults[0] as DeviceRule, rule('c *:* rwm'), rule('c 1:11 rwm', false)];
    expect(
      mismatches(rules, [
        ['c', 1, 11, 'r', false],
        ['c', 1, 3, 'rw', true],
        ['b', 1, 11, 'r', false],
      ]),
    ).toEqual([]);
  });

  it('allows by default after "allow a" and denies by default without any "a"', () => {
    const allowAll: DeviceRule = { allow: true, type: 'a', major: -1, minor: -1, access: 'rwm' };
    expect(
      mismatches(
        [allowAll, rule('c 1:11 rwm', false), rule('b *:* w', false)],
        [
          ['c', 1, 11, 'r', false],
          ['c', 1, 3, 'rw', true],
          ['b', 8, 0, 'r', true],
          ['b', 8, 0, 'rw', false],
        ],
      ),
    ).toEqual([]);
    expect(
      mismatches(
        [rule('c 1:3 rwm')],
        [
          ['c', 1, 3, 'rw', true],
          ['c', 1, 5, 'r', false],
        ],
      ),
    ).toEqual([]);
    expect(
      mismatches(
        [],
        [
          ['c', 1, 3, 'r', false],
          ['b', 8, 0, 'm', false],
        ],
      ),
    ).toEqual([]);
  });

  it('forgets every rule before an "a" in the middle, as v1 does', () => {
    const rules = [rule('c 1:3 rwm'), defaults[0] as DeviceRule, rule('c 1:5 rwm')];
    expect(
      mismatches(rules, [
        ['c', 1, 3, 'r', false],
        ['c', 1, 5, 'r', true],
      ]),
    ).toEqual([]);
  });

  it('leaves out rules that name no device the kernel can have', () => {
    const rules = [defaults[0] as DeviceRule, rule('c 5000:1 rwm'), rule('c 1:2000000 rwm')];
    expect(compileDeviceFilter(rules)).toHaveLength(8);
    expect(mismatches(rules, [['c', 5000 & 0xfff, 1, 'r', false]])).toEqual([]);
  });

  /** Each bit is decided by the last rule naming the device and the bit; undecided bits are denied. */
  function reference(rules: DeviceRule[], request: DeviceRequest): boolean {
    return [...request.access].every((bit) => {
      for (let index = rules.length - 1; index >= 0; index -= 1) {
        const candidate = rules[index] as DeviceRule;
        if (candidate.type === 'a') return candidate.allow;
        if (candidate.type !== request.type) continue;
        if (candidate.major >= 0 && candidate.major !== request.major) continue;
        if (candidate.minor >= 0 && candidate.minor !== request.minor) continue;
        if (candidate.access.includes(bit)) return candidate.allow;
      }
      return false;
    });
  }

  it('agrees with a direct reading of the rules on random rule lists', () => {
    let seed = 0x9e3779b9;
    const random = (n: number): number => {
      // xorshift32: the same lists on every run
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const pick = <T>(values: readonly T[]): T => values[random(values.length)] as T;
    const accesses = ['r', 'w', 'm', 'rw', 'rm', 'wm', 'rwm'];
    const failures: string[] = [];
    for (let round = 0; round < 300; round += 1) {
      const rules: DeviceRule[] = Array.from({ length: 1 + random(8) }, () => ({
        allow: random(2) === 0,
        type: random(12) === 0 ? 'a' : pick(['b', 'c'] as const),
        major: pick([-1, 1, 2]),
        minor: pick([-1, 3, 4]),
        access: pick(accesses),
      }));
      const program = encodeInstructions(compileDeviceFilter(rules));
      checkControlFlow(program);
      for (const type of ['b', 'c'] as const)
        for (const major of [1, 2, 9])
          for (const minor of [3, 4, 9])
            for (const access of accesses) {
              const request = { type, major, minor, access };
              const expected = reference(rules, request);
              if ((runDeviceProgram(program, request) === 1) !== expected) {
                failures.push(`${JSON.stringify(rules)} ${JSON.stringify(request)} should be ${expected}`);
              }
            }
    }
    expect(failures.slice(0, 5)).toEqual([]);
  });
});
