/**
 * `network create|ls|inspect|rm|prune` as docker prints them, and `--ip` (run and network
 * connect), on the real kernel in the suite's own network namespace: traffic goes only to
 * container addresses in it, and each fixed address is proven by fetching from it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  engineForSuite,
  networkLeftovers,
  testName,
  waitFor,
  type TestEngine,
} from '../../support/engine.js';
import { describeUnless, needsCommand, needsRoot } from '../../support/skip.js';

async function fetchFromHost(engine: TestEngine, url: string): Promise<string> {
  return waitFor(
    async () => {
      const result = await engine.inNetns('wget', ['-qO-', '-T', '5', url]);
      return result.exitCode === 0 ? result.stdout : undefined;
    },
    60_000,
    `${url} to answer`,
  );
}

describeUnless([needsRoot(), needsCommand('nft', 'nftables')], 'network commands', () => {
  const engine = engineForSuite('net-cli');
  let site: string;
  let serve: string[];

  beforeAll(() => {
    site = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('site')}-`));
    fs.writeFileSync(path.join(site, 'index.html'), 'fixed\n');
    serve = ['-v', `${site}:/www:ro`, 'demo', 'httpd', '-f', '-p', '80', '-h', '/www'];
  });
  afterAll(() => fs.rmSync(site, { recursive: true, force: true }));

  it("creates, lists, filters and inspects networks with docker's columns and fields", async () => {
    const created = await engine.gantry([
      'network',
      'create',
      '--subnet',
      '10.125.0.0/24',
      '--gateway',
      '10.125.0.254',
      '--label',
      'team=web',
      'front',
    ]);
    expect(created.stderr).toBe('');
    const id = created.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    await engine.gantry(['network', 'create', '--internal', '--subnet', '10.126.0.0/24', 'back']);

    const again = await engine.gantry(['network', 'create', 'front']);
    expect(again.exitCode).not.toBe(0);
    expect(again.stderr).toContain('network with name front already exists');
    const overlap = await engine.gantry(['network', 'create', '--subnet', '10.125.0.128/25', 'other']);
    expect(overlap.stderr).toContain('--subnet 10.125.0.128/25 overlaps network front (10.125.0.0/24)');
    const gateway = await engine.gantry([
      'network',
      'create',
      '--subnet',
      '10.127.0.0/24',
      '--gateway',
      '10.1.0.1',
      'g',
    ]);
    expect(gateway.stderr).toContain('--gateway 10.1.0.1 is not a host address of 10.127.0.0/24');
    expect((await engine.gantry(['network', 'ls', '-q'])).stdout.split('\n').filter(Boolean)).toHaveLength(3);

    const table = (await engine.gantry(['network', 'ls'])).stdout.split('\n');
    expect(table[0]).toMatch(/^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/);
    expect(table).toContainEqual(
      expect.stringMatching(new RegExp(`^${id.slice(0, 12)}\\s+front\\s+bridge\\s+local$`)),
    );
    expect(
      (await engine.gantry(['network', 'ls', '--no-trunc', '-q', '--filter', 'name=front'])).stdout,
    ).toBe(`${id}\n`);
    const byLabel = await engine.gantry([
      'network',
      'ls',
      '-f',
      'label=team=web',
      '--format',
      '{{.Name}} {{.IPv6}}',
    ]);
    expect(byLabel.stdout).toBe('front false\n');
    const custom = await engine.gantry(['network', 'ls', '--filter', 'type=custom', '--format', '{{.Name}}']);
    expect(custom.stdout.split('\n').filter(Boolean).sort()).toEqual(['back', 'front']);
    const bad = await engine.gantry(['network', 'ls', '--filter', 'colour=red']);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toContain('invalid filter "colour=red"');

    const [inspect] = JSON.parse((await engine.gantry(['network', 'inspect', 'front'])).stdout) as {
      Name: string;
      Id: string;
      Driver: string;
      Scope: string;
      Internal: boolean;
      IPAM: { Config: { Subnet: string; Gateway: string }[] };
      Labels: Record<string, string>;
    }[];
    expect(inspect).toMatchObject({
      Name: 'front',
      Id: id,
      Driver: 'bridge',
      Scope: 'local',
      Internal: false,
      IPAM: { Config: [{ Subnet: '10.125.0.0/24', Gateway: '10.125.0.254' }] },
      Labels: { team: 'web' },
    });
    expect((await engine.gantry(['network', 'inspect', '-f', '{{.Internal}}', 'back'])).stdout).toBe(
      'true\n',
    );
    const missing = await engine.gantry(['network', 'inspect', 'nowhere']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('network nowhere not found');
  });

  it('gives a container the --ip it asks for, keeps it across a restart, and refuses it twice', async () => {
    const run = await engine.gantry([
      'run',
      '-d',
      '--name',
      'fixed',
      '--network',
      'front',
      '--ip',
      '10.125.0.77',
      ...serve,
    ]);
    expect(run.stderr).toBe('');
    expect(await fetchFromHost(engine, 'http://10.125.0.77/index.html')).toBe('fixed\n');
    const ipam = await engine.gantry([
      'inspect',
      '-f',
      '{{json .NetworkSettings.Networks.front.IPAMConfig}}',
      'fixed',
    ]);
    expect(JSON.parse(ipam.stdout)).toEqual({ IPv4Address: '10.125.0.77' });

    const twice = await engine.gantry([
      'run',
      '-d',
      '--name',
      'twin',
      '--network',
      'front',
      '--ip',
      '10.125.0.77',
      ...serve,
    ]);
    expect(twice.exitCode).toBe(125);
    expect(twice.stderr).toContain('address 10.125.0.77 on network front is in use by container fixed');
    await engine.gantry(['rm', '-f', 'twin']);
    const outside = await engine.gantry([
      'create',
      '--network',
      'front',
      '--ip',
      '10.126.0.5',
      'demo',
      'true',
    ]);
    expect(outside.exitCode).toBe(125);
    expect(outside.stderr).toContain(
      '--ip 10.126.0.5 is not an address a container can have on network front',
    );
    const onDefault = await engine.gantry(['create', '--ip', '10.88.0.50', 'demo', 'true']);
    expect(onDefault.stderr).toContain('--ip is supported only for containers on user-defined networks');

    // A restart asks for the same address again.
    expect((await engine.gantry(['stop', '-t', '1', 'fixed'])).exitCode).toBe(0);
    expect((await engine.gantry(['start', 'fixed'])).exitCode).toBe(0);
    expect(
      (await engine.gantry(['inspect', '-f', '{{.NetworkSettings.Networks.front.IPAddress}}', 'fixed']))
        .stdout,
    ).toBe('10.125.0.77\n');
    expect(await fetchFromHost(engine, 'http://10.125.0.77/index.html')).toBe('fixed\n');

    // network connect --ip: a peer on the internal network reaches it there, by address and by name.
    await engine.gantry(['run', '-d', '--name', 'inner', '--network', 'back', ...serve]);
    const connected = await engine.gantry(['network', 'connect', '--ip', '10.126.0.9', 'back', 'fixed']);
    expect(connected.stderr).toBe('');
    for (const target of ['10.126.0.9', 'fixed'])
      expect(
        await waitFor(
          async () => {
            const result = await engine.gantry([
              'exec',
              'inner',
              // busybox's own -T crashes (a busybox bug, also outside containers): timeout instead.
              'timeout',
              '10',
              'wget',
              '-qO-',
              `http://${target}/index.html`,
            ]);
            return result.exitCode === 0 ? result.stdout : undefined;
          },
          60_000,
          `inner to reach ${target}`,
        ),
      ).toBe('fixed\n');
    const hosts = (await engine.gantry(['exec', 'inner', 'cat', '/etc/hosts'])).stdout;
    expect(hosts).toMatch(/^10\.126\.0\.9\tfixed [0-9a-f]{12}$/m);
  });

  it('prunes only unused networks the filters pick, and rm -f ignores a missing one', async () => {
    await engine.gantry(['network', 'create', '--label', 'keep=yes', 'kept']);
    await engine.gantry(['network', 'create', 'spare']);
    const pruned = await engine.gantry(['network', 'prune', '-f', '--filter', 'label!=keep']);
    expect(pruned.stderr).toBe('');
    expect(pruned.stdout).toBe('Deleted Networks:\nspare\n');
    const names = (await engine.gantry(['network', 'ls', '--format', '{{.Name}}'])).stdout;
    expect(names.split('\n').filter(Boolean).sort()).toEqual(['back', 'bridge', 'front', 'kept']);
    // front and back are in use (fixed, inner): the next prune removes only kept.
    expect((await engine.gantry(['network', 'prune', '-f'])).stdout).toBe('Deleted Networks:\nkept\n');

    expect((await engine.gantry(['network', 'rm', '-f', 'nowhere'])).exitCode).toBe(0);
    const plain = await engine.gantry(['network', 'rm', 'nowhere']);
    expect(plain.exitCode).toBe(1);
    expect(plain.stderr).toContain('network nowhere not found');

    await engine.gantry(['rm', '-f', 'fixed', 'inner']);
    expect((await engine.gantry(['network', 'rm', 'front', 'back'])).stdout).toBe('front\nback\n');
    expect(await networkLeftovers(engine.netns, engine.root)).toEqual([]);
  });
});
