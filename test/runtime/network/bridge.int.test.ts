/**
 * Bridge networking on the real kernel, inside the suite's own network namespace (the engine
 * runs every gantry there; traffic goes only to 127.0.0.1 and to container addresses in it):
 * published ports, names between containers on a user network, what port/ps/inspect show, and
 * that removing everything leaves no interface, rule or lease behind.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineForSuite, testName, waitFor, type TestEngine } from '../../support/engine.js';
import { describeUnless, needsCommand, needsRoot } from '../../support/skip.js';

/** Interfaces of the engine's namespace, by name. */
async function links(engine: TestEngine): Promise<string[]> {
  const result = await engine.inNetns('ip', ['-j', 'link', 'show']);
  return (JSON.parse(result.stdout) as { ifname: string }[]).map((link) => link.ifname).sort();
}

async function ruleset(engine: TestEngine): Promise<string> {
  return (await engine.inNetns('nft', ['list', 'ruleset'])).stdout;
}

function networkState(engine: TestEngine): {
  containers: Record<string, { endpoints: { address: string }[] }>;
} {
  return JSON.parse(fs.readFileSync(path.join(engine.root, 'networks', 'state.json'), 'utf8'));
}

/** wget from the namespace's host side, retried until the server in the container listens. */
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

describeUnless([needsRoot(), needsCommand('nft', 'nftables')], 'bridge networks', () => {
  const engine = engineForSuite('bridge');
  let site: string;

  beforeAll(() => {
    site = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('site')}-`));
    fs.writeFileSync(path.join(site, 'index.html'), 'served from the container\n');
  });
  afterAll(() => fs.rmSync(site, { recursive: true, force: true }));

  it('serves a published port on 127.0.0.1 to the host side; port, ps and inspect show it', async () => {
    const run = await engine.gantry([
      'run',
      '-d',
      '--name',
      'web',
      '-v',
      `${site}/index.html:/index.html:ro`,
      '-p',
      '127.0.0.1:18080:80',
      'demo',
      'httpd',
      '-f',
      '-p',
      '80',
    ]);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(await fetchFromHost(engine, 'http://127.0.0.1:18080/')).toBe('served from the container\n');

    expect((await engine.gantry(['port', 'web'])).stdout).toBe('80/tcp -> 127.0.0.1:18080\n');
    expect((await engine.gantry(['port', 'web', '80/tcp'])).stdout).toBe('127.0.0.1:18080\n');
    const missing = await engine.gantry(['port', 'web', '81']);
    expect(missing.exitCode).not.toBe(0);
    expect(missing.stderr).toContain("no public port '81/tcp' published for web");
    expect((await engine.gantry(['ps', '--format', '{{.Names}} {{.Ports}}'])).stdout).toBe(
      'web 127.0.0.1:18080->80/tcp\n',
    );
    const [inspect] = JSON.parse((await engine.gantry(['inspect', 'web'])).stdout) as {
      NetworkSettings: {
        IPAddress: string;
        Gateway: string;
        Ports: Record<string, unknown>;
        Networks: Record<string, { IPAddress: string; MacAddress: string }>;
      };
    }[];
    const settings = inspect!.NetworkSettings;
    expect(settings.Ports).toEqual({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }] });
    expect(settings.IPAddress).toMatch(/^10\.88\.0\.\d+$/);
    expect(settings.Gateway).toBe('10.88.0.1');
    expect(settings.Networks.bridge!.IPAddress).toBe(settings.IPAddress);
    // The address is the container's own: it serves there too, and says so from inside.
    expect(await fetchFromHost(engine, `http://${settings.IPAddress}:80/`)).toBe(
      'served from the container\n',
    );
    const inside = await engine.gantry(['exec', 'web', 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
    expect(inside.stdout).toContain(`inet ${settings.IPAddress}/16`);
    const route = await engine.gantry(['exec', 'web', 'ip', 'route', 'show', 'default']);
    expect(route.stdout).toContain('default via 10.88.0.1 dev eth0');
    expect(await links(engine)).toContain('gantry0');
    expect(await ruleset(engine)).toContain('dnat to');
    const network = JSON.parse((await engine.gantry(['network', 'inspect', 'bridge'])).stdout) as {
      Firewall: string;
      Options: Record<string, string>;
      Containers: Record<string, { Name: string }>;
    }[];
    expect(network[0]!.Firewall).toBe('nftables');
    expect(network[0]!.Options['com.docker.network.bridge.name']).toBe('gantry0');
    expect(Object.values(network[0]!.Containers).map((c) => c.Name)).toEqual(['web']);

    expect((await engine.gantry(['rm', '-f', 'web'])).exitCode).toBe(0);
    expect(await links(engine)).toEqual(['lo']);
    expect(await ruleset(engine)).not.toContain('gantry');
    expect(networkState(engine).containers).toEqual({});
  });

  it('lets containers on a user network fetch from each other by name and alias', async () => {
    expect((await engine.gantry(['network', 'create', '--subnet', '10.123.0.0/24', 'apps'])).exitCode).toBe(
      0,
    );
    const serve = ['-v', `${site}/index.html:/index.html:ro`, 'demo', 'httpd', '-f', '-p', '80'];
    await engine.gantry([
      'run',
      '-d',
      '--name',
      'one',
      '--network',
      'apps',
      '--network-alias',
      'first',
      ...serve,
    ]);
    await engine.gantry(['run', '-d', '--name', 'two', '--network', 'apps', ...serve]);
    const fetch = (from: string, to: string) =>
      waitFor(
        async () => {
          const result = await engine.gantry([
            'exec',
            from,
            'timeout',
            '10',
            'wget',
            '-qO-',
            `http://${to}/`,
          ]);
          return result.exitCode === 0 ? result.stdout : undefined;
        },
        60_000,
        `${from} to fetch from ${to}`,
      );
    expect(await fetch('one', 'two')).toBe('served from the container\n');
    expect(await fetch('two', 'one')).toBe('served from the container\n');
    expect(await fetch('two', 'first')).toBe('served from the container\n');
    const addresses = await engine.gantry(['ps', '--format', '{{.Names}} {{.Networks}}']);
    expect(addresses.stdout.split('\n').filter(Boolean).sort()).toEqual(['one apps', 'two apps']);
    const one = (
      await engine.gantry(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'one'])
    ).stdout.trim();
    expect(one).toMatch(/^10\.123\.0\.\d+$/);

    const refused = await engine.gantry(['network', 'rm', 'apps']);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toMatch(
      /network apps is in use by containers (one \(running\), two \(running\)|two \(running\), one \(running\))/,
    );

    // A container that goes is forgotten by its peers' /etc/hosts.
    await engine.gantry(['rm', '-f', 'two']);
    expect((await engine.gantry(['exec', 'one', 'cat', '/etc/hosts'])).stdout).not.toContain('two');
    await engine.gantry(['rm', '-f', 'one']);
    expect((await engine.gantry(['network', 'rm', 'apps'])).exitCode).toBe(0);
    expect(fs.existsSync(path.join(engine.root, 'networks', 'apps.json'))).toBe(false);
    expect((await engine.gantry(['network', 'ls', '--format', '{{.Name}}'])).stdout).toBe('bridge\n');
    expect(await links(engine)).toEqual(['lo']);
    expect(await ruleset(engine)).toBe('');
  });
});
