/**
 * `gantry ps` as docker users call it: --filter, --last/--latest, --size, --no-trunc, --sort,
 * and --format with Go templates (`table` with a header row, `json`, `.ID`, `.Label`).
 */
import { expect, it } from 'vitest';
import { engineForSuite } from '../support/engine.js';
import { describeUnless, needsRoot } from '../support/skip.js';

describeUnless(needsRoot(), 'gantry ps', () => {
  const engine = engineForSuite('ps');
  const ps = async (...args: string[]) => {
    const result = await engine.gantry(['ps', ...args]);
    expect(result.exitCode, result.stderr).toBe(0);
    return result.stdout;
  };
  const names = async (...args: string[]) =>
    (await ps(...args, '--format', '{{.Names}}')).split('\n').filter(Boolean);

  it('filters, limits, sizes, sorts and formats containers as docker does', async () => {
    const made = [
      ['create', '--name', 'c1', '--network', 'none', '-v', 'psvol:/data', 'demo', 'true'],
      ['run', '-d', '--name', 'r1', '--network', 'none', '--label', 'app=web', 'demo', 'sleep', '300'],
      ['run', '--name', 'e3', '--network', 'none', 'demo', 'sh', '-c', 'printf hi! > /tmp/f; exit 3'],
    ];
    for (const args of made) {
      const result = await engine.gantry(args);
      expect(result.exitCode, result.stderr).toBe(args[2] === 'e3' ? 3 : 0);
    }

    // table: a header row of docker's titles, never the word "table", one aligned row each.
    const tableLines = (
      await ps('-a', '--format', 'table {{.Names}}\\t{{.Status}}\\t{{.Label "app"}}')
    ).split('\n');
    expect(tableLines[0]).toMatch(/^NAMES {3,}STATUS {3,}LABEL$/);
    expect(tableLines.some((line) => line.includes('table'))).toBe(false);
    expect(tableLines).toContainEqual(expect.stringMatching(/^r1 {3,}Up .* {3,}web$/));
    expect(tableLines).toContainEqual(expect.stringMatching(/^e3 {3,}Exited \(3\) /));
    expect((await ps('--format', 'table {{.ID}}')).split('\n')[0]).toBe('CONTAINER ID');

    // json: one object per line with docker's fields; .ID is the short form of .Id.
    const rows = (await ps('-a', '--format', 'json'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, string>);
    expect(rows.map((row) => row.Names).sort()).toEqual(['c1', 'e3', 'r1']);
    for (const row of rows) {
      expect(row.ID).toMatch(/^[0-9a-f]{12}$/);
      expect(row.Id!.startsWith(row.ID!)).toBe(true);
    }
    const r1 = rows.find((row) => row.Names === 'r1')!;
    expect(r1).toMatchObject({ Image: 'demo', State: 'running', Labels: 'app=web', Command: '"sleep 300"' });
    expect(rows.find((row) => row.Names === 'c1')).toMatchObject({ State: 'created', Mounts: 'psvol' });

    // Filters: values of one key are alternatives, keys must all hold.
    expect(await names()).toEqual(['r1']);
    expect(await names('-f', 'status=exited')).toEqual(['e3']);
    expect(await names('-f', 'status=created', '-f', 'status=exited')).toEqual(['e3', 'c1']);
    expect(await names('-a', '-f', 'name=^e3$')).toEqual(['e3']);
    expect(await names('-a', '-f', 'name=1')).toEqual(['r1', 'c1']);
    expect(await names('-a', '-f', 'label=app=web')).toEqual(['r1']);
    expect(await names('-a', '-f', 'label=app')).toEqual(['r1']);
    expect(await names('-a', '-f', 'label=app=db')).toEqual([]);
    expect(await names('-a', '-f', 'ancestor=demo')).toEqual(['e3', 'r1', 'c1']);
    expect(await names('-a', '-f', 'ancestor=demo:latest', '-f', 'status=running')).toEqual(['r1']);
    expect(await names('-a', '-f', 'ancestor=other')).toEqual([]);
    expect(await names('-a', '-f', `id=${r1.ID!.slice(0, 6)}`)).toEqual(['r1']);
    expect(await names('-a', '-f', 'exited=3')).toEqual(['e3']);
    expect(await names('-a', '-f', 'exited=0')).toEqual([]);
    expect(await names('-a', '-f', 'volume=psvol')).toEqual(['c1']);
    expect(await names('-a', '-f', 'volume=/data')).toEqual(['c1']);
    expect(await names('-a', '-f', 'since=c1')).toEqual(['e3', 'r1']);
    expect(await names('-a', '-f', 'before=e3')).toEqual(['r1', 'c1']);
    expect(await names('-a', '-f', 'health=none', '-f', 'network=none')).toEqual(['e3', 'r1', 'c1']);
    const bad = await engine.gantry(['ps', '-f', 'colour=red']);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toMatch(/invalid filter 'colour=red'\nhint: accepted: ancestor=VALUE, .*status=VALUE/);
    const badStatus = await engine.gantry(['ps', '-f', 'status=sleeping']);
    expect(badStatus.stderr).toMatch(/invalid filter 'status=sleeping'\nhint: status is one of created, /);

    // -n / -l count the newest containers in every state.
    expect(await names('-n', '2')).toEqual(['e3', 'r1']);
    expect(await names('-l')).toEqual(['e3']);
    expect(await names('--sort', 'names', '-a')).toEqual(['c1', 'e3', 'r1']);

    // --no-trunc: full ids and commands; -q prints ids only.
    const full = await ps('-a', '--no-trunc', '-q');
    expect(full.split('\n').filter(Boolean)).toHaveLength(3);
    for (const id of full.split('\n').filter(Boolean)) expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(await ps('-a', '--no-trunc', '-f', 'name=e3', '--format', '{{.ID}} {{.Command}}')).toMatch(
      /^[0-9a-f]{64} "sh -c printf hi! > \/tmp\/f; exit 3"\n$/,
    );
    expect(await ps('-a', '-f', 'name=e3', '--format', '{{.Command}}')).toBe('"sh -c printf hi! > …"\n');

    // --size: the writable layer (the 3 bytes e3 wrote) and the image under it.
    const sized = (await ps('-a', '-s', '-f', 'name=e3')).split('\n');
    expect(sized[0]).toMatch(/\bNAMES {3,}SIZE$/);
    expect(sized[1]).toMatch(/ e3 {3,}3B \(virtual [\d.]+[kMG]?B\)$/);
    expect(await ps('-a', '-f', 'name=c1', '--format', '{{.Size}}')).toMatch(
      /^0B \(virtual [\d.]+[kMG]?B\)\n$/,
    );
  });
});
