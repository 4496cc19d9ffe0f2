/** Every command is listed by `gantry --help` and in the README, and docker's `image VERB` names reach it. */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { COMMANDS, resolveManagementCommand } from '../../source/cli/registry.js';
import { GANTRY, REPO } from '../support/engine.js';

const visible = COMMANDS.filter((command) => !command.hidden).map((command) => command.name);

it('gantry --help lists every command', async () => {
  const help = (await execa(GANTRY, ['--help'], { env: { GANTRY_ROOT: '/nonexistent' } })).stdout;
  for (const name of visible) expect(help).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
});

it("the README's command list names every command, and only those", () => {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const section = /\n## Commands\n([\s\S]*?)\n## /.exec(readme)?.[1];
  expect(section, 'README.md has a "## Commands" section').toBeDefined();
  const listed = [...section!.matchAll(/^\| `([a-z-]+)`/gm)].map((match) => match[1]);
  expect([...listed].sort()).toEqual([...visible].sort());
});

it("docker's image VERB names reach the top-level commands", () => {
  expect(resolveManagementCommand('image', ['build', '-t', 'x', '.'])).toEqual({
    name: 'build',
    rest: ['-t', 'x', '.'],
  });
  expect(resolveManagementCommand('image', ['load', '-i', 'a.tar'])).toEqual({
    name: 'load',
    rest: ['-i', 'a.tar'],
  });
  expect(resolveManagementCommand('image', ['remove', 'x'])).toEqual({ name: 'rmi', rest: ['x'] });
  expect(resolveManagementCommand('image', ['ls'])).toEqual({ name: 'image', rest: ['ls'] });
});

it('gantry image --help lists its commands', async () => {
  const help = (await execa(GANTRY, ['image', '--help'], { env: { GANTRY_ROOT: '/nonexistent' } })).stdout;
  for (const verb of [
    'ls, list',
    'rm',
    'import',
    'export, save',
    'pull',
    'push',
    'tree',
    'history',
    'prune',
    'tag',
    'inspect',
    'build',
    'load',
    'remove',
  ])
    expect(help).toMatch(new RegExp(`^  ${verb} +\\S`, 'm'));
});
