/**
 * Compiles an OCI seccomp profile (linux.seccomp) to a classic BPF program, the array of
 * `struct sock_filter` the native helper hands to seccomp(2). Rules are checked in order, the
 * first match decides; a syscall no rule names gets the default action. Syscalls of another
 * architecture (or of the x32 ABI) are refused, so a deny list cannot be bypassed with int 0x80.
 */
import { InvalidArgumentError, UnsupportedError } from '../errors.js';
import { SYSCALLS_AARCH64, SYSCALLS_X86_64 } from './syscalls.js';
import type { OciSeccomp, OciSeccompArg } from './types.js';

const BPF_LD_W_ABS = 0x20;
const BPF_JMP_JEQ_K = 0x15;
const BPF_JMP_JGT_K = 0x25;
const BPF_JMP_JGE_K = 0x35;
const BPF_ALU_AND_K = 0x54;
const BPF_RET_K = 0x06;
const MAX_INSTRUCTIONS = 4096;

const AUDIT_ARCH_X86_64 = 0xc000003e;
const AUDIT_ARCH_AARCH64 = 0xc00000b7;
const X32_SYSCALL_BIT = 0x40000000;
const EPERM = 1;

export const RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

export interface SeccompArch {
  audit: number;
  syscalls: Readonly<Record<string, number>>;
  /** Syscall numbers at or above this bit belong to another ABI (x32) and are refused. */
  foreignBit?: number;
}

export const ARCHITECTURES: Record<string, SeccompArch> = {
  x64: { audit: AUDIT_ARCH_X86_64, syscalls: SYSCALLS_X86_64, foreignBit: X32_SYSCALL_BIT },
  arm64: { audit: AUDIT_ARCH_AARCH64, syscalls: SYSCALLS_AARCH64 },
};

export function hostArchitecture(): SeccompArch {
  const arch = ARCHITECTURES[process.arch];
  if (!arch)
    throw new UnsupportedError(
      `seccomp filters are not supported on ${process.arch} yet (x64 and arm64 are)`,
    );
  return arch;
}

/** OCI action name (+ errnoRet) to the seccomp return value. */
export function actionValue(action: string, errnoRet?: number): number {
  switch (action) {
    case 'SCMP_ACT_ALLOW':
      return RET.ALLOW;
    case 'SCMP_ACT_ERRNO':
      return (RET.ERRNO | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return RET.TRAP;
    case 'SCMP_ACT_TRACE':
      return (RET.TRACE | ((errnoRet ?? 0) & 0xffff)) >>> 0;
    case 'SCMP_ACT_LOG':
      return RET.LOG;
    default:
      throw new InvalidArgumentError(
        `seccomp action ${JSON.stringify(action)} is not supported (accepted: SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_TRACE, SCMP_ACT_LOG)`,
      );
  }
}

interface Instruction {
  code: number;
  /** Jump targets: a label name, or a relative offset. */
  jt: string | number;
  jf: string | number;
  k: number;
}

/** A tiny assembler with labels, so jumps are written as names and resolved at the end. */
class Program {
  readonly instructions: Instruction[] = [];
  private readonly labels = new Map<string, number>();
  private counter = 0;

  label(): string {
    this.counter += 1;
    return `L${this.counter}`;
  }

  place(label: string): void {
    this.labels.set(label, this.instructions.length);
  }

  emit(code: number, k: number, jt: string | number = 0, jf: string | number = 0): void {
    this.instructions.push({ code, jt, jf, k: k >>> 0 });
  }

  load(offset: number): void {
    this.emit(BPF_LD_W_ABS, offset);
  }

  ret(value: number): void {
    this.emit(BPF_RET_K, value);
  }

  assemble(): Buffer {
    if (this.instructions.length > MAX_INSTRUCTIONS) {
      throw new InvalidArgumentError(
        `the seccomp profile compiles to ${this.instructions.length} BPF instructions; the kernel accepts at most ${MAX_INSTRUCTIONS}`,
      );
    }
    const buffer = Buffer.alloc(this.instructions.length * 8);
    this.instructions.forEach((instruction, index) => {
      const resolve = (target: string | number): number => {
        if (typeof target === 'number') return target;
        const at = this.labels.get(target);
        if (at === undefined) throw new Error(`seccomp assembler: label ${target} was never placed`);
        const offset = at - index - 1;
        if (offset < 0 || offset > 255) {
          throw new InvalidArgumentError('a seccomp rule has too many argument conditions to compile');
        }
        return offset;
      };
      buffer.writeUInt16LE(instruction.code, index * 8);
      buffer.writeUInt8(resolve(instruction.jt), index * 8 + 2);
      buffer.writeUInt8(resolve(instruction.jf), index * 8 + 3);
      buffer.writeUInt32LE(instruction.k, index * 8 + 4);
    });
    return buffer;
  }
}

type ArgCondition = OciSeccompArg;

const split = (value: number): [number, number] => {
  const big = BigInt.asUintN(64, BigInt(value));
  return [Number(big >> 32n), Number(big & 0xffffffffn)];
};

/** Emits the test of one argument condition: falls through when it holds, jumps to `fail` if not. */
function emitCondition(program: Program, condition: ArgCondition, fail: string): void {
  if (!Number.isInteger(condition.index) || condition.index < 0 || condition.index > 5) {
    throw new InvalidArgumentError(`seccomp: argument index ${condition.index} is out of range (0..5)`);
  }
  const lo = 16 + condition.index * 8;
  const hi = lo + 4;
  const [vhi, vlo] = split(condition.value);
  const pass = program.label();
  switch (condition.op) {
    case 'SCMP_CMP_EQ':
      program.load(hi);
      program.emit(BPF_JMP_JEQ_K, vhi, 0, fail);
      program.load(lo);
      program.emit(BPF_JMP_JEQ_K, vlo, 0, fail);
      break;
    case 'SCMP_CMP_NE':
      program.load(hi);
      program.emit(BPF_JMP_JEQ_K, vhi, 0, pass);
      program.load(lo);
      program.emit(BPF_JMP_JEQ_K, vlo, fail, 0);
      break;
    case 'SCMP_CMP_MASKED_EQ': {
      const [mhi, mlo] = split(condition.value);
      const [ehi, elo] = split(condition.valueTwo ?? 0);
      program.load(hi);
      program.emit(BPF_ALU_AND_K, mhi);
      program.emit(BPF_JMP_JEQ_K, ehi, 0, fail);
      program.load(lo);
      program.emit(BPF_ALU_AND_K, mlo);
      program.emit(BPF_JMP_JEQ_K, elo, 0, fail);
      break;
    }
    case 'SCMP_CMP_GT':
    case 'SCMP_CMP_GE':
      program.load(hi);
      program.emit(BPF_JMP_JGT_K, vhi, pass, 0);
      program.emit(BPF_JMP_JEQ_K, vhi, 0, fail);
      program.load(lo);
      program.emit(condition.op === 'SCMP_CMP_GT' ? BPF_JMP_JGT_K : BPF_JMP_JGE_K, vlo, 0, fail);
      break;
    case 'SCMP_CMP_LT':
    case 'SCMP_CMP_LE':
      program.load(hi);
      program.emit(BPF_JMP_JGT_K, vhi, fail, 0);
      program.emit(BPF_JMP_JEQ_K, vhi, 0, pass);
      program.load(lo);
      program.emit(condition.op === 'SCMP_CMP_LT' ? BPF_JMP_JGE_K : BPF_JMP_JGT_K, vlo, fail, 0);
      break;
    default:
      throw new InvalidArgumentError(
        `seccomp: comparison ${JSON.stringify(condition.op)} is not supported (accepted: SCMP_CMP_EQ, SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_GT, SCMP_CMP_GE, SCMP_CMP_MASKED_EQ)`,
      );
  }
  program.place(pass);
}

export interface CompileOptions {
  arch?: SeccompArch;
}

/** Compiles a profile; unknown syscall names are skipped (as runc does for other kernels). */
export function compileSeccomp(profile: OciSeccomp, options: CompileOptions = {}): Buffer {
  const arch = options.arch ?? hostArchitecture();
  const defaultAction = actionValue(profile.defaultAction, profile.defaultErrnoRet);
  const program = new Program();
  const refused = (RET.ERRNO | EPERM) >>> 0;
  const native = program.label();
  program.load(4);
  program.emit(BPF_JMP_JEQ_K, arch.audit, native, 0);
  program.ret(refused);
  program.place(native);
  program.load(0);
  if (arch.foreignBit) {
    const ok = program.label();
    program.emit(BPF_JMP_JGE_K, arch.foreignBit, 0, ok);
    program.ret(refused);
    program.place(ok);
  }
  for (const rule of profile.syscalls ?? []) {
    const action = actionValue(rule.action, rule.errnoRet);
    const conditions = rule.args ?? [];
    for (const name of rule.names) {
      const number = arch.syscalls[name];
      if (number === undefined) continue;
      const next = program.label();
      if (conditions.length === 0) {
        program.emit(BPF_JMP_JEQ_K, number, 0, next);
        program.ret(action);
        program.place(next);
        continue;
      }
      const fail = program.label();
      program.emit(BPF_JMP_JEQ_K, number, 0, next);
      for (const condition of conditions) emitCondition(program, condition, fail);
      program.ret(action);
      program.place(fail);
      program.load(0);
      program.place(next);
    }
  }
  program.ret(defaultAction);
  return program.assemble();
}
