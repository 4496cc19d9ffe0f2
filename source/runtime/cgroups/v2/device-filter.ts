/**
 * Compiles device rules into the eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) that enforces them
 * on cgroup v2, after runc's devicefilter: the rules are walked from the last to the first, so
 * the last rule that matches a device wins, as when the v1 driver writes them in order.
 *
 * A request can carry several access bits (an O_RDWR open asks for read and write), and each bit
 * is decided by the last rule that names it: the program keeps the bits no rule has decided yet
 * in R3; an allow rule clears its bits and allows once none is left, a deny rule denies when it
 * names any bit still undecided. runc's older generator matched a rule only when it named every
 * requested bit, so "deny c 1:3 w" did not stop an O_RDWR open that an earlier rule allowed.
 *
 * An "a" rule resets everything before it, as on v1 (the v1 driver writes it as a bare "a"), so it
 * ends the walk with its verdict. Without one, whatever no rule decides is denied: the v1 driver
 * also starts every list with "deny a".
 *
 * Unlike v1, a later rule overrides an earlier wildcard either way: v1 silently ignores a
 * "deny c 1:11 rwm" after "allow c *:* rwm" (and, after "allow a", an "allow c 1:3 rwm" after
 * "deny c *:* rwm"), because it only edits exceptions that name the same numbers; current runc
 * refuses such lists. Docker's lists (deny a, then allows) never meet the difference.
 *
 * Pure: no kernel access. ../../sys/bpf.ts loads the result.
 */
import { endianness } from 'node:os';
import type { DeviceRule } from '../types.js';

/** One eBPF instruction, struct bpf_insn: u8 code, u8 dst_reg:4 src_reg:4, s16 off, s32 imm. */
export interface BpfInstruction {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

export const BPF_INSTRUCTION_SIZE = 8;

/** struct bpf_cgroup_dev_ctx: u32 access_type (type low 16 bits, access high 16), u32 major, u32 minor. */
export const DEV_CTX_ACCESS_TYPE = 0;
export const DEV_CTX_MAJOR = 4;
export const DEV_CTX_MINOR = 8;
export const BPF_DEVCG_DEV_BLOCK = 1;
export const BPF_DEVCG_DEV_CHAR = 2;
export const BPF_DEVCG_ACC_MKNOD = 1;
export const BPF_DEVCG_ACC_READ = 2;
export const BPF_DEVCG_ACC_WRITE = 4;
const ALL_ACCESS = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;

/** The opcodes this generator emits (class | op | source), and nothing else. */
export const BPF_OP = {
  /** dst = *(u32 *)(src + off) */
  LDX_MEM_W: 0x61,
  /** dst32 &= imm */
  ALU32_AND_K: 0x54,
  /** dst32 >>= imm */
  ALU32_RSH_K: 0x74,
  /** dst32 = imm */
  ALU32_MOV_K: 0xb4,
  /** dst32 = src32 */
  ALU32_MOV_X: 0xbc,
  /** if dst == imm goto pc + 1 + off */
  JMP_JEQ_K: 0x15,
  /** if dst != imm goto pc + 1 + off */
  JMP_JNE_K: 0x55,
  /** return R0 */
  JMP_EXIT: 0x95,
} as const;

/** The kernel's dev_t holds a 12-bit major and a 20-bit minor; a rule beyond them names no device. */
const MAX_MAJOR = 0xfff;
const MAX_MINOR = 0xfffff;

// Registers: R0 verdict, R1 context (then scratch), R2 device type, R3 access bits not yet
// decided, R4 major, R5 minor.
const R0 = 0;
const R1 = 1;
const R2 = 2;
const R3 = 3;
const R4 = 4;
const R5 = 5;

function insn(code: number, dst: number, src: number, off: number, imm: number): BpfInstruction {
  return { code, dst, src, off, imm };
}

function verdict(allow: boolean): BpfInstruction[] {
  return [insn(BPF_OP.ALU32_MOV_K, R0, 0, 0, allow ? 1 : 0), insn(BPF_OP.JMP_EXIT, 0, 0, 0, 0)];
}

export function accessMask(access: string): number {
  let mask = 0;
  for (const letter of access) {
    if (letter === 'r') mask |= BPF_DEVCG_ACC_READ;
    else if (letter === 'w') mask |= BPF_DEVCG_ACC_WRITE;
    else if (letter === 'm') mask |= BPF_DEVCG_ACC_MKNOD;
  }
  return mask;
}

/**
 * The block for one b/c rule, or undefined when it can match no device. Every "goto next" jumps
 * to the instruction after the block, so each jump's offset is counted from the block's end.
 */
function ruleBlock(rule: DeviceRule): BpfInstruction[] | undefined {
  if (rule.major > MAX_MAJOR || rule.minor > MAX_MINOR) return undefined;
  const access = accessMask(rule.access);
  if (access === 0) return undefined;
  // Jumps get a placeholder offset (the marker NEXT) fixed once the block's length is known.
  const NEXT = Number.NaN;
  const block: BpfInstruction[] = [
    insn(BPF_OP.JMP_JNE_K, R2, 0, NEXT, rule.type === 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR),
  ];
  if (rule.major >= 0) block.push(insn(BPF_OP.JMP_JNE_K, R4, 0, NEXT, rule.major));
  if (rule.minor >= 0) block.push(insn(BPF_OP.JMP_JNE_K, R5, 0, NEXT, rule.minor));
  if (access !== ALL_ACCESS) {
    if (rule.allow) {
      // The bits this rule allows are decided; allow once no requested bit is left undecided.
      block.push(
        insn(BPF_OP.ALU32_AND_K, R3, 0, 0, ~access & ALL_ACCESS),
        insn(BPF_OP.JMP_JNE_K, R3, 0, NEXT, 0),
      );
    } else {
      // Deny when the request still has a bit this rule denies.
      block.push(
        insn(BPF_OP.ALU32_MOV_X, R1, R3, 0, 0),
        insn(BPF_OP.ALU32_AND_K, R1, 0, 0, access),
        insn(BPF_OP.JMP_JEQ_K, R1, 0, NEXT, 0),
      );
    }
  }
  block.push(...verdict(rule.allow));
  return block.map((instruction, index) =>
    Number.isNaN(instruction.off) ? { ...instruction, off: block.length - index - 1 } : instruction,
  );
}

/** The program for `rules` (in the order given, as the v1 driver writes them). */
export function compileDeviceFilter(rules: readonly DeviceRule[]): BpfInstruction[] {
  const program: BpfInstruction[] = [
    insn(BPF_OP.LDX_MEM_W, R2, R1, DEV_CTX_ACCESS_TYPE, 0),
    insn(BPF_OP.ALU32_AND_K, R2, 0, 0, 0xffff),
    insn(BPF_OP.LDX_MEM_W, R3, R1, DEV_CTX_ACCESS_TYPE, 0),
    insn(BPF_OP.ALU32_RSH_K, R3, 0, 0, 16),
    insn(BPF_OP.LDX_MEM_W, R4, R1, DEV_CTX_MAJOR, 0),
    insn(BPF_OP.LDX_MEM_W, R5, R1, DEV_CTX_MINOR, 0),
  ];
  for (let index = rules.length - 1; index >= 0; index -= 1) {
    const rule = rules[index] as DeviceRule;
    if (rule.type === 'a') {
      // Everything before an "a" rule was reset by it: nothing after this verdict can run.
      program.push(...verdict(rule.allow));
      return program;
    }
    const block = ruleBlock(rule);
    if (block) program.push(...block);
  }
  program.push(...verdict(false));
  return program;
}

/** The instructions as the kernel reads them (struct bpf_insn[], host byte order). */
export function encodeInstructions(
  instructions: readonly BpfInstruction[],
  byteOrder: 'LE' | 'BE' = endianness(),
): Buffer {
  const bytes = Buffer.alloc(instructions.length * BPF_INSTRUCTION_SIZE);
  instructions.forEach((instruction, index) => {
    const at = index * BPF_INSTRUCTION_SIZE;
    bytes.writeUInt8(instruction.code, at);
    // The register nibbles are bitfields, whose order follows the byte order.
    const registers =
      byteOrder === 'LE'
        ? ((instruction.src & 0xf) << 4) | (instruction.dst & 0xf)
        : ((instruction.dst & 0xf) << 4) | (instruction.src & 0xf);
    bytes.writeUInt8(registers, at + 1);
    if (byteOrder === 'LE') {
      bytes.writeInt16LE(instruction.off, at + 2);
      bytes.writeInt32LE(instruction.imm | 0, at + 4);
    } else {
      bytes.writeInt16BE(instruction.off, at + 2);
      bytes.writeInt32BE(instruction.imm | 0, at + 4);
    }
  });
  return bytes;
}
