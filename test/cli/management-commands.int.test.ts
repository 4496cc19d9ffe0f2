/** docker's management commands: `container VERB` runs the container command VERB. */
import { expect, it } from 'vitest';
import { resolveManagementCommand } from '../../source/cli/registry.js';
import { engineForSuite } from '../support/engine.js';
import { describeUnless, needsRoot } from '../support/skip.js';

it('maps container verbs, docker names included, and leaves its own verbs to `container`', () => {
  expect(resolveManagementCommand('container', ['ls', '-a'])).toEqual({ name: 'ps', rest: ['-a'] });
  expect(resolveManagementCommand('container', ['list'])).toEqual({ name: 'ps', rest: [] });
  expect(resolveManagementCommand('container', ['remove', '-f', 'x'])).toEqual({
    name: 'rm',
    rest: ['-f', 'x'],
  });
  expect(resolveManagementCommand('container', ['diff', 'x'])).toEqual({ name: 'diff', rest: ['x'] });
  expect(resolveManagementCommand('container', ['cleanup', 'x'])).toEqual({
    name: 'container',
    rest: ['cleanup', 'x'],
  });
  // Image commands are not container verbs.
  expect(resolveManagementCommand('container', ['pull', 'x'])).toEqual({
    name: 'container',
    rest: ['pull', 'x'],
  });
  expect(resolveManagementCommand('ps', ['ls'])).toEqual({ name: 'ps', rest: ['ls'] });
});

describeUnless(needsRoot(), 'gantry container VERB', () => {
  const engine = engineForSuite('mgmt');

  it('lists, inspects and removes as ps, inspect and rm do; an unknown verb names the accepted ones', async () => {
    const created = await engine.gantry([
      'container',
      'create',
      '--name',
      'mgmt1',
      '--network',
      'none',
      'demo',
      'true',
    ]);
    expect(created.exitCode, created.stderr).toBe(0);
    const listed = await engine.gantry(['container', 'ls', '-a', '--format', '{{.Names}} {{.State}}']);
    expect(listed.stdout).toBe(
      (await engine.gantry(['ps', '-a', '--format', '{{.Names}} {{.State}}'])).stdout,
    );
    expect(listed.stdout).toContain('mgmt1 created');
    const inspected = JSON.parse((await engine.gantry(['container', 'inspect', 'mgmt1'])).stdout);
    expect(inspected[0].Name).toBe('/mgmt1');
    expect((await engine.gantry(['container', 'rm', 'mgmt1'])).exitCode).toBe(0);
    expect((await engine.gantry(['ps', '-a', '--format', '{{.Names}}'])).stdout).not.toContain('mgmt1');
    const unknown = await engine.gantry(['container', 'frob']);
    expect(unknown.exitCode).toBe(125);
    expect(unknown.stderr).toMatch(/unknown container command "frob"; accepted: .*\bls\b.*\brm\b/);
  });
});
