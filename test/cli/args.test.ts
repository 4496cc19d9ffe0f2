import { describe, expect, it } from 'vitest';
import { formatHelp, parseArgs, type CommandSpec } from '../../source/cli/args.js';
import { renderTemplate } from '../../source/cli/template.js';
import { humanDuration, humanSize, table } from '../../source/cli/format.js';

const run: CommandSpec = {
  name: 'run',
  usage: 'run [OPTIONS] IMAGE [COMMAND] [ARG...]',
  description: 'Run',
  stopAtFirstPositional: true,
  minArgs: 1,
  options: [
    { name: 'detach', short: 'd', type: 'boolean', description: 'detach' },
    { name: 'interactive', short: 'i', type: 'boolean', description: 'stdin' },
    { name: 'tty', short: 't', type: 'boolean', description: 'tty' },
    { name: 'env', short: 'e', type: 'list', description: 'env' },
    { name: 'name', type: 'string', description: 'name' },
    { name: 'stop-timeout', type: 'number', description: 'seconds' },
  ],
};

describe('argument parser', () => {
  it('parses docker-style flags and stops at the image', () => {
    const parsed = parseArgs(run, [
      '-it',
      '-e',
      'A=1',
      '-eB=2',
      '--env=C=3',
      '--name',
      'x',
      '--stop-timeout=5',
      'img',
      'sh',
      '-c',
      'echo -d',
    ]);
    expect(parsed.options).toEqual({
      interactive: true,
      tty: true,
      env: ['A=1', 'B=2', 'C=3'],
      name: 'x',
      'stop-timeout': 5,
    });
    expect(parsed.args).toEqual(['img', 'sh', '-c', 'echo -d']);
  });

  it('accepts explicit booleans and "--" as the end of flags', () => {
    expect(parseArgs(run, ['--detach=false', '-t=true', 'img']).options).toEqual({
      detach: false,
      tty: true,
    });
    expect(parseArgs(run, ['--', '--not-a-flag']).args).toEqual(['--not-a-flag']);
  });

  it('explains what was wrong and where to look', () => {
    expect(() => parseArgs(run, ['--nope', 'img'])).toThrow("unknown flag: --nope\nSee 'gantry run --help'.");
    expect(() => parseArgs(run, ['-x', 'img'])).toThrow("unknown shorthand flag: 'x' in -x");
    expect(() => parseArgs(run, ['--name'])).toThrow('flag needs an argument: --name');
    expect(() => parseArgs(run, ['--stop-timeout', 'soon', 'img'])).toThrow(
      'invalid argument "soon" for "--stop-timeout" flag: expected a number',
    );
    expect(() => parseArgs(run, [])).toThrow('"gantry run" requires at least 1 argument');
  });

  it('writes help from the same option table', () => {
    const help = formatHelp(run);
    expect(help).toContain('Usage:  gantry run [OPTIONS] IMAGE [COMMAND] [ARG...]');
    expect(help).toMatch(/-e, --env list\s+env/);
    expect(parseArgs(run, ['--help']).help).toBe(true);
  });
});

describe('output helpers', () => {
  it('formats like docker', () => {
    expect(humanSize(1_980_000)).toBe('1.98MB');
    expect(humanSize(999)).toBe('999B');
    expect(humanDuration(500)).toBe('Less than a second');
    expect(humanDuration(90_000)).toBe('About a minute');
    expect(humanDuration(150_000)).toBe('2 minutes');
    expect(humanDuration(3 * 86_400_000)).toBe('3 days');
    expect(humanDuration(30 * 3_600_000)).toBe('30 hours');
    expect(
      table(
        ['A', 'BB'],
        [
          ['x', 'y'],
          ['long', 'z'],
        ],
      ),
    ).toBe('A      BB\nx      y\nlong   z\n');
  });

  it('renders the template subset scripts use', () => {
    const value = { State: { Pid: 42, Status: 'running' }, Name: '/web', Config: { Env: ['A=1'] } };
    expect(renderTemplate('{{.State.Pid}}', value)).toBe('42');
    expect(renderTemplate('{{.Name}} {{ .State.Status }}', value)).toBe('/web running');
    expect(renderTemplate('{{json .Config.Env}}', value)).toBe('["A=1"]');
    // inspect, like docker's fallback to the raw JSON map, prints <no value>; the typed rows of
    // ps/images/stats/events refuse a field they do not have, as docker does.
    expect(renderTemplate('{{.Missing.Field}}', value, { missing: 'no-value' })).toBe('<no value>');
    expect(() => renderTemplate('{{.Nope}}', value)).toThrow(
      'template: executing at <.Nope>: no field "Nope"',
    );
    // Below a row field, maps (labels) give <no value> for a key they lack, as Go templates do.
    expect(renderTemplate('{{.State.Nope}}', value)).toBe('<no value>');
    expect(() => renderTemplate('{{range .X}}', value)).toThrow(/has no \{\{end\}\}/);
  });
});
