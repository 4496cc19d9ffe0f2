/**
 * The helper's plan parser (native/plan.c) on the built binary: a plan with the directives the
 * parser reads from its tables (strings, flags, lists) and by hand is read through to its end,
 * and each kind of bad field is refused with a message naming it, before anything is done. The
 * plan goes in on fd 3 and the refusal comes back there, as the engine talks to the helper.
 */
import { spawn } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { expect, it } from 'vitest';
import { encodeField, serializePlan } from '../../../source/runtime/init/plan.js';
import { HELPER } from '../../support/engine.js';
import { describeUnless, needsFile } from '../../support/skip.js';
import { samplePlan } from './sample-plan.js';

/** What `gantry-init exec` says on fd 3 about `plan`, and its exit code. */
async function refusal(plan: string): Promise<{ message: string; code: number | null }> {
  const child = spawn(HELPER, ['exec'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env: {} });
  const channel = child.stdio[3] as Duplex;
  let said = '';
  channel.on('data', (chunk: Buffer) => (said += chunk.toString()));
  channel.on('error', () => undefined);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  channel.write(plan);
  const code = await exited;
  await new Promise((resolve) => setImmediate(resolve));
  const line = said.split('\n').find((text) => text.startsWith('error ')) ?? said;
  // Fields are percent-encoded on the channel as in the plan.
  return { message: decodeURIComponent(line.replace(/^error /, '')), code };
}

describeUnless([needsFile([HELPER], 'the built helper (node scripts/build.mjs)')], 'plan parser', () => {
  it('reads a whole plan of table and hand-parsed directives to its end', async () => {
    // Everything parses: the helper gets as far as comparing the plan's mode with its command.
    const { message, code } = await refusal(serializePlan(samplePlan));
    expect(message).toBe('plan mode `init` does not match the command `exec`');
    expect(code).toBe(125);
  });

  it.each([
    ['a string directive without its field', 'mode', 'plan: `mode` needs 1 field(s)'],
    ['a list directive without its field', 'mode exec\nenv', 'plan: `env` needs 1 field(s)'],
    ['a number that is not one', 'mode exec\nlogmax 10 many', 'plan: log max files: not a number: `many`'],
    ['a 64-bit number that is not one', 'mode exec\nrlimit 7 1x 2', 'plan: rlimit soft: not a number: `1x`'],
    ['a signed number that is not one', 'mode exec\noomscore -', 'plan: oom score: not a number: `-`'],
    ['a device number', 'mode exec\nmkdev /dev/x c 1 q 0666 0 0', 'plan: minor: not a number: `q`'],
    ['a bound device number', 'mode exec\nbindev /dev/x c z 1 /dev/null', 'plan: major: not a number: `z`'],
    ['a broken escape', `mode exec\ncwd ${encodeField('/a')}%zz`, 'plan: bad escape in field `/a%zz`'],
    ['a seccomp program that is not hex', 'mode exec\nseccomp 0g', 'plan: seccomp program is not hex'],
    ['an unknown directive', 'mode exec\nfrobnicate 1', 'plan: unknown directive `frobnicate`'],
  ])('refuses %s', async (_what, lines, expected) => {
    const { message, code } = await refusal(`version 1\n${lines}\nend\n`);
    expect(message.startsWith(expected), message).toBe(true);
    expect(code).toBe(125);
  });
});
