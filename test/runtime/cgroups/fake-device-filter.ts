/**
 * A DeviceFilter for unit tests on a fake tree: it keeps the program "attached" to each cgroup
 * directory instead of calling bpf(2), and can be made to refuse, as a kernel without BPF would.
 */
import type { DeviceFilter } from '../../../source/runtime/cgroups/v2/devices.js';
import { runDeviceProgram, type DeviceRequest } from './bpf-interpreter.js';

export class RecordingDeviceFilter implements DeviceFilter {
  /** The program attached to each directory. */
  readonly attached = new Map<string, Buffer>();
  /** Every call, in order. */
  readonly calls: Array<{ call: 'check' | 'replace'; dir?: string; program: Buffer }> = [];
  private refusal: Error | undefined;

  /** Makes check() and replace() throw `error` (undefined: accept again). */
  refuse(error: Error | undefined): void {
    this.refusal = error;
  }

  async check(program: Buffer): Promise<void> {
    this.calls.push({ call: 'check', program });
    if (this.refusal) throw this.refusal;
  }

  async replace(dir: string, program: Buffer): Promise<void> {
    this.calls.push({ call: 'replace', dir, program });
    if (this.refusal) throw this.refusal;
    this.attached.set(dir, program);
  }

  /** Whether the program attached to `dir` lets `request` through (none attached: allowed). */
  allows(dir: string, request: DeviceRequest): boolean {
    const program = this.attached.get(dir);
    return program === undefined || runDeviceProgram(program, request) === 1;
  }
}
