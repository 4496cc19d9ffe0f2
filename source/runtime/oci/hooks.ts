/** OCI hooks run by gantry-oci itself (prestart, createRuntime, poststart, poststop). */
import { spawn } from 'node:child_process';
import { GantryError } from '../errors.js';
import type { OciHook, OciState } from '../spec/types.js';

export class HookError extends GantryError {}

/** Runs one hook with the state on stdin; rejects on failure or timeout. */
export async function runHook(stage: string, hook: OciHook, state: OciState): Promise<void> {
  const [argv0, ...args] = hook.args && hook.args.length > 0 ? hook.args : [hook.path];
  const child = spawn(hook.path, args, {
    argv0: argv0 ?? hook.path,
    env: Object.fromEntries(
      (hook.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
    ),
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin!.on('error', () => undefined);
  child.stdin!.end(JSON.stringify(state));
  const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
    (resolve) => {
      let timer: NodeJS.Timeout | undefined;
      if (hook.timeout) {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve({ code: null, signal: null, error: new Error(`timed out after ${hook.timeout} s`) });
        }, hook.timeout * 1000);
      }
      child.once('error', (error) => {
        if (timer) clearTimeout(timer);
        resolve({ code: null, signal: null, error });
      });
      child.once('exit', (code, signal) => {
        if (timer) clearTimeout(timer);
        resolve({ code, signal });
      });
    },
  );
  if (result.error || result.code !== 0) {
    const why =
      result.error?.message ?? (result.signal ? `signal ${result.signal}` : `exit status ${result.code}`);
    throw new HookError(
      `${stage} hook ${hook.path} failed: ${why}${stderr.trim() ? `: ${stderr.trim()}` : ''}`,
    );
  }
}

/** Runs the hooks of a stage after the fact (poststart, poststop): a failure is a warning. */
export async function runHooksWarning(
  stage: string,
  hooks: OciHook[] | undefined,
  state: OciState,
): Promise<void> {
  for (const hook of hooks ?? []) {
    try {
      await runHook(stage, hook, state);
    } catch (error) {
      process.stderr.write(`gantry-oci: warning: ${(error as Error).message}\n`);
    }
  }
}
