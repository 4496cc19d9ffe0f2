import { describe, expect, it } from 'vitest';
import { defaultSeccompProfile } from '../../../source/runtime/spec/default-seccomp.js';
import { ARCHITECTURES, compileSeccomp, RET } from '../../../source/runtime/spec/seccomp.js';
import type { OciSeccomp } from '../../../source/runtime/spec/types.js';

const x64 = ARCHITECTURES.x64!;
const nr = (name: string) => x64.syscalls[name]!;

/** How many instructions the last run executed: the cost of a syscall under the filter. */
let executed = 0;

/** A classic BPF interpreter for the instructions the compiler emits. */
function run(program: Buffer, data: { arch?: number; nr: number; args?: (number | bigint)[] }): number {
  executed = 0;
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
    executed += 1;
    switch (code) {
      case 0x05:
        pc += k;
        break;
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
    expect(run(program, { nr: nr('getpid') })).toBe(errno(1));
    // Newer than anything the profile names: ENOSYS, so a libc falls back.
    expect(run(program, { nr: nr('openat') })).toBe(errno(38));
    expect(run(program, { nr: 1000 })).toBe(errno(38));
  });

  it('puts no ENOSYS in front of a default that allows', () => {
    const program = compileSeccomp(
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO' }] },
      { arch: x64 },
    );
    expect(run(program, { nr: nr('read') })).toBe(errno(1));
    expect(run(program, { nr: nr('openat') })).toBe(RET.ALLOW);
    expect(run(program, { nr: 1000 })).toBe(RET.ALLOW);
  });

  it('keeps the first match when one syscall has several rules, across a large profile', () => {
    const names = Object.keys(x64.syscalls).filter((name) => name !== 'ioctl');
    const program = compileSeccomp(
      {
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [
          { names, action: 'SCMP_ACT_ALLOW' },
          {
            names: ['ioctl'],
            action: 'SCMP_ACT_ERRNO',
            errnoRet: 25,
            args: [{ index: 1, value: 0x5412, op: 'SCMP_CMP_EQ' }],
          },
          { names: ['ioctl', 'read'], action: 'SCMP_ACT_ERRNO', errnoRet: 5 },
        ],
      },
      { arch: x64 },
    );
    for (const name of names) expect(run(program, { nr: nr(name) }), name).toBe(RET.ALLOW);
    expect(run(program, { nr: nr('ioctl'), args: [0, 0x5412] })).toBe(errno(25));
    expect(run(program, { nr: nr('ioctl'), args: [0, 0x5401] })).toBe(errno(5));
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
    'CAP_FSETID',
    'CAP_FOWNER',
    'CAP_MKNOD',
    'CAP_NET_RAW',
    'CAP_SETGID',
    'CAP_SETUID',
    'CAP_SETFCAP',
    'CAP_SETPCAP',
    'CAP_NET_BIND_SERVICE',
    'CAP_SYS_CHROOT',
    'CAP_KILL',
    'CAP_AUDIT_WRITE',
  ];
  const program = compileSeccomp(defaultSeccompProfile(docker), { arch: x64 });
  // Numbers, for syscalls newer than the kernel headers the table was made from.
  const STATMOUNT = 457;
  const LISTMOUNT = 458;
  const ADDR_NO_RANDOMIZE = 0x0040000;
  const READ_IMPLIES_EXEC = 0x0400000;

  it("is docker's allowlist: what it does not name is refused, EPERM if known and ENOSYS if newer", () => {
    for (const name of ['read', 'openat', 'execve', 'mkdir', 'clone', 'rseq', 'futex_waitv', 'chroot'])
      expect(run(program, { nr: nr(name) }), name).toBe(RET.ALLOW);
    for (const name of [
      'mount',
      'unshare',
      'setns',
      'keyctl',
      'add_key',
      'ptrace',
      'reboot',
      'kexec_load',
      'init_module',
      'bpf',
      'userfaultfd',
      'io_uring_setup',
      'memfd_secret',
      'sethostname',
      'open_by_handle_at',
    ]) {
      expect(run(program, { nr: nr(name) }), name).toBe(errno(1));
    }
    expect(run(program, { nr: nr('clone3') })).toBe(errno(38));
    for (const number of [STATMOUNT, LISTMOUNT, 1000]) expect(run(program, { nr: number })).toBe(errno(38));
  });

  it('refuses AF_VSOCK sockets, even with the upper half of the argument set', () => {
    expect(run(program, { nr: nr('socket'), args: [2, 1, 0] })).toBe(RET.ALLOW);
    expect(run(program, { nr: nr('socket'), args: [1, 1, 0] })).toBe(RET.ALLOW);
    expect(run(program, { nr: nr('socket'), args: [40, 1, 0] })).toBe(errno(1));
    expect(run(program, { nr: nr('socket'), args: [(1n << 32n) | 40n, 1, 0] })).toBe(errno(1));
  });

  it('lets personality query and set the plain personas only', () => {
    for (const value of [0, 8, 0x20000, 0x20008, 0xffffffff])
      expect(run(program, { nr: nr('personality'), args: [value] }), `${value}`).toBe(RET.ALLOW);
    for (const value of [ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE | 8])
      expect(run(program, { nr: nr('personality'), args: [value] }), `${value}`).toBe(errno(1));
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
    expect(run(admin, { nr: nr('clone3') })).toBe(RET.ALLOW);
    expect(run(admin, { nr: nr('keyctl') })).toBe(errno(1));
    expect(run(admin, { nr: nr('memfd_secret') })).toBe(errno(1));
  });

  it('costs a few dozen instructions per syscall, not one comparison per allowed name', () => {
    let worst = 0;
    for (const number of Object.values(x64.syscalls)) {
      run(program, { nr: number, args: [0, 0, 0] });
      worst = Math.max(worst, executed);
    }
    expect(worst).toBeLessThanOrEqual(40);
    expect(program.length / 8).toBeLessThan(4096);
  });
});
