/**
 * The printing every ls and inspect subcommand shares (cli/listing.ts) and the filter grouping
 * volume, network and ps filters share (runtime/filters.ts), on plain data: what -q, --json,
 * --format and the default table print, and what inspect prints and returns when some
 * references are missing.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { keyValues, type ParsedArgs } from '../../source/cli/args.js';
import type { CommandContext } from '../../source/cli/context.js';
import { printInspected, printListing } from '../../source/cli/listing.js';
import { NotFoundError } from '../../source/runtime/errors.js';
import { groupFilters, labelMatches } from '../../source/runtime/filters.js';
import { networkFilter } from '../../source/runtime/network/filters.js';
import { parseVolumeFilters } from '../../source/runtime/volumes/filters.js';

function capture(): { context: CommandContext; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const context = { stdout, stderr } as unknown as CommandContext;
  return { context, out: () => out, err: () => err };
}

function parsed(options: ParsedArgs['options'], args: string[] = []): ParsedArgs {
  return { options, args } as unknown as ParsedArgs;
}

const rows = [
  { Name: 'alpha', Driver: 'local' },
  { Name: 'beta', Driver: 'local' },
];
const listing = {
  rows,
  quiet: (row: (typeof rows)[number]) => row.Name,
  columns: ['DRIVER', 'VOLUME NAME'],
  cells: (row: (typeof rows)[number]) => [row.Driver, row.Name],
  headers: { Name: 'VOLUME NAME', Driver: 'DRIVER' },
};

describe('printListing', () => {
  it('prints -q, --json, --format and the default table', async () => {
    const quiet = capture();
    printListing(parsed({ quiet: true }), quiet.context, listing);
    const json = capture();
    printListing(parsed({ json: true }), json.context, listing);
    const format = capture();
    printListing(parsed({ format: 'table {{.Name}}' }), format.context, listing);
    const plain = capture();
    printListing(parsed({}), plain.context, listing);
    await new Promise((resolve) => setImmediate(resolve));
    expect(quiet.out()).toBe('alpha\nbeta\n');
    expect(JSON.parse(json.out())).toEqual(rows);
    expect(format.out().split('\n')[0]?.trim()).toBe('VOLUME NAME');
    expect(format.out()).toContain('alpha');
    expect(plain.out().split('\n')[0]).toMatch(/^DRIVER\s+VOLUME NAME$/);
    expect(plain.out()).toMatch(/local\s+beta/);
  });
});

describe('printInspected', () => {
  const inspect = async (reference: string) => {
    if (reference === 'missing') throw new NotFoundError(`no such thing: ${reference}`);
    return { Name: reference };
  };

  it('prints what was found, reports the rest and returns 1', async () => {
    const { context, out, err } = capture();
    expect(await printInspected(parsed({}, ['one', 'missing']), context, inspect)).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(JSON.parse(out())).toEqual([{ Name: 'one' }]);
    expect(err()).toContain('no such thing: missing');
  });

  it('prints [] when all failed unless told not to, and a template per result', async () => {
    const empty = capture();
    expect(await printInspected(parsed({}, ['missing']), empty.context, inspect)).toBe(1);
    const none = capture();
    await printInspected(parsed({}, ['missing']), none.context, inspect, { printEmpty: false });
    const format = capture();
    expect(await printInspected(parsed({ format: '{{.Name}}' }, ['a', 'b']), format.context, inspect)).toBe(
      0,
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(empty.out()).toBe('[]\n');
    expect(none.out()).toBe('');
    expect(format.out()).toBe('a\nb\n');
  });
});

describe('filters', () => {
  it('groups values by key in order and refuses what is not KEY=VALUE or not accepted', () => {
    const refuse = (text: string, key: string | undefined) => new Error(`${text}|${key ?? ''}`);
    expect([
      ...groupFilters(['label=a', 'name=x', 'label!=b', 'label=c'], ['label', 'label!', 'name'], refuse),
    ]).toEqual([
      ['label', ['a', 'c']],
      ['name', ['x']],
      ['label!', ['b']],
    ]);
    expect(() => groupFilters(['colour=red'], ['name'], refuse)).toThrow('colour=red|colour');
    expect(() => groupFilters(['nonsense'], ['name'], refuse)).toThrow('nonsense|');
  });

  it('matches labels by key alone or key and exact value, never through the prototype', () => {
    const labels = { tier: 'web', empty: '' };
    expect(labelMatches(labels, 'tier')).toBe(true);
    expect(labelMatches(labels, 'tier=web')).toBe(true);
    expect(labelMatches(labels, 'tier=db')).toBe(false);
    expect(labelMatches(labels, 'empty=')).toBe(true);
    expect(labelMatches(labels, 'toString')).toBe(false);
    expect(labelMatches(labels, 'missing=')).toBe(false);
  });

  it("keeps each command's messages: volume's and network's refusals", () => {
    expect(() => parseVolumeFilters(['colour=red'], ['name'])).toThrow("invalid filter 'colour=red'");
    expect(() => parseVolumeFilters(['dangling=maybe'], ['dangling'])).toThrow(
      "invalid filter 'dangling=maybe'",
    );
    expect(() => networkFilter(['type=other'], 'ls')).toThrow(
      'invalid filter "type=other": type is custom or builtin',
    );
    expect(() => networkFilter(['oops'], 'ls')).toThrow('invalid filter "oops": expected KEY=VALUE');
  });

  it('reads KEY=VALUE and bare KEY list options as a record', () => {
    expect(keyValues({ label: ['a=1', 'b', 'c=x=y'] }, 'label')).toEqual({ a: '1', b: '', c: 'x=y' });
    expect(keyValues({}, 'label')).toEqual({});
  });
});
