/**
 * A small eBPF interpreter for the device filter's programs: it decodes the bytes the kernel
 * would get, runs them on one struct bpf_cgroup_dev_ctx and returns R0. It knows only the opcodes
 * the generator emits and checks what the verifier would (known opcode, registers written before
 * read, jumps forward inside the program, an exit at the end of every path), so a program it runs
 * is one the kernel could load.
 */
import { endianness } from 'node:os';
import {
  BPF_DEVCG_ACC_MKNOD,
  BPF_DEVCG_ACC_READ,
  BPF_DEVCG_ACC_WRITE,
  BPF_DEVCG_DEV_BLOCK,
  BPF_DEVCG_DEV_CHAR,
  BPF_INSTRUCTION_SIZE,
  BPF_OP,
  type BpfInstruction,
} from '../../../source/runtime/cgroups/v2/device-filter.js';

export interface DeviceRequest {
  type: 'b' | 'c';
  major: number;
  minor: number;
  /** Any of r, w, m: what the kernel asks for (an O_RDWR open asks "rw", mknod "m"). */
  access: string;
}

export function decodeProgram(bytes: Buffer): BpfInstruction[] {
  if (bytes.length % BPF_INSTRUCTION_SIZE !== 0) throw new Error(`${bytes.length} bytes is not a program`);
  const little = endianness() === 'LE';
  const program: BpfInstruction[] = [];
  for (let at = 0; at < bytes.length; at += BPF_INSTRUCTION_SIZE) {
    const registers = bytes.readUInt8(at + 1);
    program.push({
      code: bytes.readUInt8(at),
      dst: little ? registers & 0xf : registers >> 4,
      src: little ? registers >> 4 : registers & 0xf,
      off: little ? bytes.readInt16LE(at + 2) : bytes.readInt16BE(at + 2),
      imm: little ? bytes.readInt32LE(at + 4) : bytes.readInt32BE(at + 4),
    });
  }
  return program;
}

function accessBits(access: string): number {
  let bits = 0;
  if (access.includes('m')) bits |= BPF_DEVCG_ACC_MKNOD;
  if (access.includes('r')) bits |= BPF_DEVCG_ACC_READ;
  if (access.includes('w')) bits |= BPF_DEVCG_ACC_WRITE;
  return bits;
}

/** The context the kernel passes: access_type (type | access << 16), major, minor. */
export function deviceContext(request: DeviceRequest): Buffer {
  const ctx = Buffer.alloc(12);
  const type = request.type === 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
  const write = endianness() === 'LE' ? ctx.writeUInt32LE.bind(ctx) : ctx.writeUInt32BE.bind(ctx);
  write((type | (accessBits(request.access) << 16)) >>> 0, 0);
  write(request.major >>> 0, 4);
  write(request.minor >>> 0, 8);
  return ctx;
}

const U32 = 0xffffffffn;
const U64 = 0xffffffffffffffffn;

/** Runs `program` (bytes or instructions) on `request`; returns R0 (1 allow, 0 deny). */
export function runDeviceProgram(program: Buffer | BpfInstruction[], request: DeviceRequest): number {
  const instructions = Buffer.isBuffer(program) ? decodeProgram(program) : program;
  const ctx = deviceContext(request);
  const registers: (bigint | undefined)[] = new Array<bigint | undefined>(11).fill(undefined);
  // R1 points at the context: the interpreter keeps it as a marker, loads read `ctx`.
  const CTX = -1n;
  registers[1] = CTX;
  const read = (register: number): bigint => {
    const value = registers[register];
    if (value === undefined) throw new Error(`R${register} is read before it is written`);
    return value;
  };
  const immediate = (imm: number): bigint => BigInt.asUintN(64, BigInt(imm));
  for (let pc = 0, steps = 0; ; steps += 1) {
    if (steps > instructions.length) throw new Error('the program loops');
    const instruction = instructions[pc];
    if (!instruction) throw new Error(`pc ${pc} runs off the end of the program`);
    const { code, dst, src, off, imm } = instruction;
    let next = pc + 1;
    switch (code) {
      case BPF_OP.LDX_MEM_W: {
        if (read(src) !== CTX) throw new Error(`pc ${pc}: load through R${src}, not the context`);
        if (off < 0 || off + 4 > ctx.length || off % 4 !== 0)
          throw new Error(`pc ${pc}: bad context offset ${off}`);
        registers[dst] = BigInt(endianness() === 'LE' ? ctx.readUInt32LE(off) : ctx.readUInt32BE(off));
        break;
      }
      case BPF_OP.ALU32_AND_K:
        registers[dst] = read(dst) & U32 & immediate(imm) & U32;
        break;
      case BPF_OP.ALU32_RSH_K:
        registers[dst] = (read(dst) & U32) >> BigInt(imm & 31);
        break;
      case BPF_OP.ALU32_MOV_K:
        registers[dst] = immediate(imm) & U32;
        break;
      case BPF_OP.ALU32_MOV_X:
        registers[dst] = read(src) & U32;
        break;
      case BPF_OP.JMP_JEQ_K:
      case BPF_OP.JMP_JNE_K: {
        if (off < 0) throw new Error(`pc ${pc}: backward jump`);
        if (pc + 1 + off >= instructions.length) throw new Error(`pc ${pc}: jump past the end`);
        const equal = (read(dst) & U64) === immediate(imm);
        if (equal === (code === BPF_OP.JMP_JEQ_K)) next = pc + 1 + off;
        break;
      }
      case BPF_OP.JMP_EXIT:
        return Number(read(0));
      default:
        throw new Error(`pc ${pc}: opcode 0x${code.toString(16)} is not one the generator emits`);
    }
    if (dst === 10) throw new Error(`pc ${pc}: writes the frame pointer`);
    pc = next;
  }
}

/**
 * The verifier's control-flow checks (kernel check_cfg): every instruction is reachable, no jump
 * goes backwards or out of the program, and no path falls off the end without an exit.
 */
export function checkControlFlow(program: Buffer | BpfInstruction[]): void {
  const instructions = Buffer.isBuffer(program) ? decodeProgram(program) : program;
  const reached = new Array<boolean>(instructions.length).fill(false);
  reached[0] = true;
  for (const [pc, instruction] of instructions.entries()) {
    if (!reached[pc]) throw new Error(`pc ${pc} is unreachable`);
    const { code, off } = instruction;
    if (code === BPF_OP.JMP_EXIT) continue;
    const targets = [pc + 1];
    if (code === BPF_OP.JMP_JEQ_K || code === BPF_OP.JMP_JNE_K) {
      if (off < 0) throw new Error(`pc ${pc}: backward jump`);
      targets.push(pc + 1 + off);
    }
    for (const target of targets) {
      if (target >= instructions.length) throw new Error(`pc ${pc} falls off the end of the program`);
      reached[target] = true;
    }
  }
}
