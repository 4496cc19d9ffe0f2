/**
 * Compiles an OCI seccomp profile (linux.seccomp) to a classic BPF program, the array of
 * `struct sock_filter` the native helper hands to seccomp(2). Rules are checked in order, the
 * first match decides; a syscall no rule names gets the default action. Syscalls of another
 * architecture (or of the x32 ABI) are refused, so a deny list cannot be bypassed with int 0x80.
 *
 * A profile whose default refuses (an allowlist, such as docker's) also answers ENOSYS for every
 * syscall newer than the newest one it names, as runc's stub does: a libc probing a syscall the
 * profile's authors never saw falls back, where EPERM would make it fail.
 *
 * The syscall number is found by a binary search over the numbers the profile names, then the
 * rules of that syscall run in order: a few dozen instructions per call for a profile of
 * hundreds of syscalls, where a chain of comparisons would run hundreds.
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
const BPF_JMP_JA = 0x05;
const MAX_INSTRUCTIONS = 4096;
/** Syscall numbers compared one by one at the bottom of the search. */
const SEARCH_LEAF = 4;

const AUDIT_ARCH_X86_64 = 0xc000003e;
const AUDIT_ARCH_AARCH64 = 0xc00000b7;
const X32_SYSCALL_BIT = 0x40000000;
const EPERM = 1;
const ENOSYS = 38;
/** Default actions that let a syscall run: no ENOSYS stub in front of them (runc's rule too). */
const ALLOWING_ACTIONS = new Set(['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE']);

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
  /** A constant, or (BPF_JA) a label: the 32-bit offset of an unconditional jump. */
  k: number | string;
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

  /** An unconditional jump, which (unlike jt/jf) reaches any distance forward. */
  jump(label: string): void {
    this.instructions.push({ code: BPF_JMP_JA, jt: 0, jf: 0, k: label });
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
      const k =
        typeof instruction.k === 'number' ? instruction.k : this.labels.get(instruction.k)! - index - 1;
      if (typeof instruction.k === 'string' && !this.labels.has(instruction.k))
        throw new Error(`seccomp assembler: label ${instruction.k} was never placed`);
      buffer.writeUInt32LE(k >>> 0, index * 8 + 4);
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

const COMPARISONS = new Set([
  'SCMP_CMP_EQ',
  'SCMP_CMP_NE',
  'SCMP_CMP_MASKED_EQ',
  'SCMP_CMP_GT',
  'SCMP_CMP_GE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
]);

/** Refuses a condition the compiler cannot emit, whether or not its rule is ever reached. */
function checkCondition(condition: ArgCondition): void {
  if (!Number.isInteger(condition.index) || condition.index < 0 || condition.index > 5) {
    throw new InvalidArgumentError(`seccomp: argument index ${condition.index} is out of range (0..5)`);
  }
  if (!COMPARISONS.has(condition.op)) {
    throw new InvalidArgumentError(
      `seccomp: comparison ${JSON.stringify(condition.op)} is not supported (accepted: SCMP_CMP_EQ, SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_GT, SCMP_CMP_GE, SCMP_CMP_MASKED_EQ)`,
    );
  }
}

export interface CompileOptions {
  arch?: SeccompArch;
}

/** One rule as it applies to one syscall. */
interface SyscallRule {
  conditions: ArgCondition[];
  action: number;
}

/** Compiles a profile; unknown syscall names are skipped (as runc does for other kernels). */
export function compileSeccomp(profile: OciSeccomp, options: CompileOptions = {}): Buffer {
  const arch = options.arch ?? hostArchitecture();
  const defaultAction = actionValue(profile.defaultAction, profile.defaultErrnoRet);
  // Each syscall's rules in profile order, so the first match still decides.
  const rulesOf = new Map<number, SyscallRule[]>();
  for (const rule of profile.syscalls ?? []) {
    const action = actionValue(rule.action, rule.errnoRet);
    const conditions = rule.args ?? [];
    conditions.forEach(checkCondition);
    for (const name of rule.names) {
      const number = arch.syscalls[name];
      if (number === undefined) continue;
      const rules = rulesOf.get(number) ?? [];
      // Behind a rule without conditions, later rules for the syscall can never match.
      if (rules.at(-1)?.conditions.length === 0) continue;
      rules.push({ conditions, action });
      rulesOf.set(number, rules);
    }
  }
  const numbers = [...rulesOf.keys()].sort((a, b) => a - b);

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
  if (!ALLOWING_ACTIONS.has(profile.defaultAction) && numbers.length > 0) {
    const known = program.label();
    program.emit(BPF_JMP_JGT_K, numbers.at(-1)!, 0, known);
    program.ret((RET.ERRNO | ENOSYS) >>> 0);
    program.place(known);
  }

  const entryOf = new Map(numbers.map((number) => [number, program.label()]));
  const search = (low: number, high: number): void => {
    if (high - low <= SEARCH_LEAF) {
      for (const number of numbers.slice(low, high)) {
        program.emit(BPF_JMP_JEQ_K, number, 0, 1);
        program.jump(entryOf.get(number)!);
      }
      program.ret(defaultAction);
      return;
    }
    const middle = (low + high) >> 1;
    const upper = program.label();
    program.emit(BPF_JMP_JGE_K, numbers[middle]!, 0, 1);
    program.jump(upper);
    search(low, middle);
    program.place(upper);
    search(middle, high);
  };
  search(0, numbers.length);

  for (const number of numbers) {
    program.place(entryOf.get(number)!);
    let decided = false;
    for (const rule of rulesOf.get(number)!) {
      if (rule.conditions.length === 0) {
        program.ret(rule.action);
        decided = true;
        break;
      }
      const fail = program.label();
      for (const condition of rule.conditions) emitCondition(program, condition, fail);
      program.ret(rule.action);
      program.place(fail);
    }
    if (!decided) program.ret(defaultAction);
  }
  return program.assemble();
}
