/**
 * The kernel does not namespace keyrings: a container's process that kept the session keyring of
 * whoever ran `gantry run` could use that user's keys. Each container joins one of its own,
 * `_ses.ID`, as under runc, and a process `gantry exec` starts joins that same one (runc's setns
 * init does), as root or as another user, never keeping the caller's. Looked at from inside through
 * /proc/keys (unmasked by --privileged) and through keyctl(2) (attack.c's `keyring`: the session
 * keyring the process holds).
 */
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineForSuite, waitFor } from '../support/engine.js';
import { describeUnless, needsRoot } from '../support/skip.js';
import { usernsBase } from '../support/userns.js';
import { buildAttackTool } from './support.js';

/** "SERIAL DESCRIPTION" of the session keyring in the attack tool's output. */
const sessionKeyring = (output: string) => /^session-keyring (\d+ \S+)$/m.exec(output)?.[1];

describeUnless(needsRoot(), 'session keyring', () => {
  // Private subordinate id files for --userns=auto (the host's /etc/subuid is never touched).
  const base = usernsBase('keyring');
  const engine = engineForSuite('keyring');
  let tools = '';

  beforeAll(() => {
    tools = buildAttackTool();
  });
  afterAll(() => {
    for (const dir of [tools, base]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a container’s process has a session keyring of its own, named after the container', async () => {
    const run = await engine.gantry([
      'run',
      '--name',
      'keys',
      '--network',
      'none',
      '--privileged',
      'demo',
      'cat',
      '/proc/keys',
    ]);
    expect(run.exitCode).toBe(0);
    const id = (await engine.gantry(['inspect', '-f', '{{.Id}}', 'keys'])).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    // Before, it kept the caller's: no keyring of that name existed.
    expect(run.stdout).toMatch(new RegExp(` keyring +_ses\\.${id}: `));
    expect((await engine.gantry(['rm', 'keys'])).exitCode).toBe(0);
  });

  it.each([
    ['', []],
    [' under --userns=auto (looked up in its user namespace)', ['--userns=auto']],
  ])(
    'a process gantry exec starts joins the container’s keyring, as root and as another user%s',
    async (_, userns) => {
      const attack = path.join(tools, 'attack');
      const host = sessionKeyring((await execa(attack, ['keyring'])).stdout);
      expect(host).toBeDefined();
      const run = await engine.gantry([
        'run',
        '-d',
        '--name',
        'exec-keys',
        ...userns,
        '--network',
        'none',
        // The default profile (docker's) refuses keyctl(2), which the tool calls to look.
        '--security-opt',
        'seccomp=unconfined',
        '-v',
        `${tools}:/attack:ro`,
        'demo',
        'sh',
        '-c',
        '/attack/attack keyring; exec sleep 600',
      ]);
      expect(run.exitCode, run.stderr).toBe(0);
      const id = (await engine.gantry(['inspect', '-f', '{{.Id}}', 'exec-keys'])).stdout.trim();
      const init = await waitFor(
        async () => sessionKeyring((await engine.gantry(['logs', 'exec-keys'])).stdout),
        60_000,
        'the init’s keyring in its log',
      );
      expect(init).toMatch(new RegExp(`^\\d+ _ses\\.${id}$`));
      for (const user of [[], ['-u', '1000']]) {
        const exec = await engine.gantry(['exec', ...user, 'exec-keys', '/attack/attack', 'keyring']);
        expect(exec.exitCode, exec.stderr).toBe(0);
        // The very keyring the init holds (same serial), not the caller's, nor a new one of that name.
        expect(sessionKeyring(exec.stdout), `exec ${user.join(' ')}`).toBe(init);
        expect(sessionKeyring(exec.stdout)).not.toBe(host);
      }
      expect((await engine.gantry(['rm', '-f', 'exec-keys'])).exitCode).toBe(0);
    },
  );
});
