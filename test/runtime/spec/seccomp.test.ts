import { describe, expect, it } from 'vitest';
import { defaultSeccompProfile } from '../../../source/runtime/spec/default-seccomp.js';
import { ARCHITECTURES, compileSeccomp, RET } from '../../../source/runtime/spec/seccomp.js';
import type { OciSeccomp } from '../../../source/runtime/spec/types.js';

const x64 = ARCHITECTURES.x64!;
const nr = (name: string) => x64.syscalls[name]!;

/** A classic BPF interpreter for the instructions the compiler emits. */
function run(program: Buffer, data: { arch?: number; nr: number; args?: (number | bigint)[] }): number {
  const memory = Buffer.alloc(64);
  memory.writeUInt32LE(data.nr >>> 0, 0);
  memory.writeUInt32LE(data.arch ?? 0xc000003e, 4);
  (data.args ?? []).forEach((arg, i) => memory.writeBigUInt64LE(BigInt.asUintN(64, BigInt(arg)), 16 + i * 8));
  let a = 0;
  for (let pc = 0; pc < program.length / 8;) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    pc += 1;
    switch (code) {
      case 0x20:
        a = memory.readUInt32LE(k);
        break;
      case 0x54:
        a = (a & k) >>> 0;
        break;
      case 0x15:
        pc += a === k ? jt : jf;
        break;
      case 0x25:
        pc += a > k ? jt : jf;
        break;
      case 0x35:
        pc += a >= k ? jt : jf;
        break;
      case 0x06:
        return k;
      default:
        throw new Error(`unknown instruction ${code.toString(16)}`);
    }
  }
  throw new Error('fell off the end of the program');
}

const errno = (value: number) => (RET.ERRNO | value) >>> 0;

describe('seccomp compiler', () => {
  it('applies the first matching rule, else the default action', () => {
    const profile: OciSeccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['read', 'write', 'no_such_syscall'], action: 'SCMP_ACT_ALLOW' },
        { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      ],
    };
    const program = compileSeccomp(profile, { arch: x64 });
    expect(run(program, { nr: nr('read') })).toBe(RET.ALLOW);
    expect(run(program, { nr: nr('write') })).toBe(RET.ALLOW);
    expect(run(program, { nr: nr('mkdir') })).toBe(errno(13));
    expect(run(program, { nr: nr('openat') })).toBe(errno(1));
  });

  it('refuses other architectures and the x32 ABI', () => {
    const program = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, { arch: x64 });
    expect(run(program, { nr: nr('read') })).toBe(RET.ALLOW);
    expect(run(program, { nr: 3, arch: 0x40000003 })).toBe(errno(1));
    expect(run(program, { nr: 0x40000000 + 1 })).toBe(errno(1));
  });

  it('compares 64-bit arguments: eq, ne, masked, gt, ge, lt, le', () => {
    const big = 0x1_0000_0005;
    const rule = (op: string, value: number, valueTwo?: number): OciSeccomp => ({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        {
          names: ['ioctl'],
          action: 'SCMP_ACT_ERRNO',
          errnoRet: 22,
          args: [{ index: 1, value, op, ...(valueTwo === undefined ? {} : { valueTwo }) }],
        },
      ],
    });
    const verdict = (profile: OciSeccomp, arg: number) =>
      run(compileSeccomp(profile, { arch: x64 }), { nr: nr('ioctl'), args: [0, arg] }) === RET.ALLOW
        ? 'allow'
        : 'deny';
    const cases: [string, number, number, 'allow' | 'deny'][] = [
      ['SCMP_CMP_EQ', big, big, 'deny'],
      ['SCMP_CMP_EQ', big, 5, 'allow'],
      ['SCMP_CMP_NE', big, 5, 'deny'],
      ['SCMP_CMP_NE', big, big, 'allow'],
      ['SCMP_CMP_GT', big, big + 1, 'deny'],
      ['SCMP_CMP_GT', big, big, 'allow'],
      ['SCMP_CMP_GT', big, 0x2_0000_0000, 'deny'],
      ['SCMP_CMP_GE', big, big, 'deny'],
      ['SCMP_CMP_GE', big, 0x0_ffff_ffff, 'allow'],
      ['SCMP_CMP_LT', big, big - 1, 'deny'],
      ['SCMP_CMP_LT', big, big, 'allow'],
      ['SCMP_CMP_LT', big, 0x0_ffff_ffff, 'deny'],
      ['SCMP_CMP_LE', big, big, 'deny'],
      ['SCMP_CMP_LE', big, big + 1, 'allow'],
    ];
    for (const [op, value, arg, expected] of cases)
      expect(verdict(rule(op, value), arg), `${op} ${value} vs ${arg}`).toBe(expected);
    const masked = rule('SCMP_CMP_MASKED_EQ', 0x20000, 0x20000);
    expect(verdict(masked, 0x20011)).toBe('deny');
    expect(verdict(masked, 0x11)).toBe('allow');
  });

  it('explains an unsupported action or comparison', () => {
    expect(() => compileSeccomp({ defaultAction: 'SCMP_ACT_NOTIFY' }, { arch: x64 })).toThrow(
      /SCMP_ACT_NOTIFY" is not supported/,
    );
    expect(() =>
      compileSeccomp(
        {
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [
            { names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 9, value: 1, op: 'SCMP_CMP_EQ' }] },
          ],
        },
        { arch: x64 },
      ),
    ).toThrow(/index 9 is out of range/);
  });
});

describe('default profile', () => {
  const docker = [
    'CAP_CHOWN',
    'CAP_DAC_OVERRIDE',
    'CAP_SETUID',
    'CAP_SETGID',
    'CAP_KILL',
    'CAP_NET_BIND_SERVICE',
  ];
  const program = compileSeccomp(defaultSeccompProfile(docker), { arch: x64 });

  it('refuses what docker refuses without the capability, and allows the rest', () => {
    for (const name of [
      'mount',
      'unshare',
      'setns',
      'keyctl',
      'ptrace',
      'reboot',
      'init_module',
      'bpf',
      'io_uring_setup',
    ]) {
      expect(run(program, { nr: nr(name) }), name).toBe(errno(1));
    }
    for (const name of ['read', 'openat', 'execve', 'mkdir', 'socket', 'sethostname'])
      expect(run(program, { nr: nr(name) }), name).toBe(RET.ALLOW);
    expect(run(program, { nr: nr('clone3') })).toBe(errno(38));
  });

  it('lets clone make threads and processes but not namespaces', () => {
    const threadFlags = 0x3d0f00;
    expect(run(program, { nr: nr('clone'), args: [threadFlags] })).toBe(RET.ALLOW);
    expect(run(program, { nr: nr('clone'), args: [0x11] })).toBe(RET.ALLOW);
    expect(run(program, { nr: nr('clone'), args: [0x10000000 | 0x11] })).toBe(errno(1));
    expect(run(program, { nr: nr('clone'), args: [0x20000] })).toBe(errno(1));
  });

  it('lets a capability through what it grants', () => {
    const admin = compileSeccomp(defaultSeccompProfile([...docker, 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE']), {
      arch: x64,
    });
    expect(run(admin, { nr: nr('mount') })).toBe(RET.ALLOW);
    expect(run(admin, { nr: nr('ptrace') })).toBe(RET.ALLOW);
    expect(run(admin, { nr: nr('clone'), args: [0x10000000] })).toBe(RET.ALLOW);
    expect(run(admin, { nr: nr('keyctl') })).toBe(errno(1));
  });
});
