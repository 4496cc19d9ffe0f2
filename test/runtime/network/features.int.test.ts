/**
 * The rest of bridge networking on the real kernel, in the suite's own network namespace:
 * published ports held against the host and against other containers, -P, network connect and
 * disconnect of a running container, --network container:, --internal, the uplink's MTU,
 * /etc/hosts and resolv.conf flags, the iptables backend, kill -9 of the monitor, and NET I/O
 * counted on the container's own interface.
 */
import { execa } from 'execa';
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

function leases(engine: TestEngine): Record<string, unknown> {
  try {
    return (
      JSON.parse(fs.readFileSync(path.join(engine.root, 'networks', 'state.json'), 'utf8')) as {
        containers: Record<string, unknown>;
      }
    ).containers;
  } catch {
    return {};
  }
}

/** Runs `args` in the container until it succeeds (its server may still be starting). */
async function untilSucceeds(engine: TestEngine, args: string[], what: string): Promise<string> {
  return waitFor(
    async () => {
      const result = await engine.gantry(args);
      return result.exitCode === 0 ? result.stdout : undefined;
    },
    60_000,
    what,
  );
}

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

async function listening(engine: TestEngine, port: number): Promise<boolean> {
  return (await engine.inNetns('ss', ['-Hltn', `sport = :${port}`])).stdout.trim() !== '';
}

describeUnless(
  [needsRoot(), needsCommand('nft', 'nftables'), needsCommand('iptables-restore', 'iptables')],
  'bridge networking features',
  () => {
    const engine = engineForSuite('net-features');
    let site: string;
    let serve: string[];

    beforeAll(() => {
      site = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('site')}-`));
      fs.writeFileSync(path.join(site, 'index.html'), 'hello\n');
      // A megabyte the NET I/O test moves, made of text so no encoding changes its size.
      fs.writeFileSync(path.join(site, 'big'), 'x'.repeat(1024 * 1024));
      serve = ['-v', `${site}:/www:ro`, 'demo', 'httpd', '-f', '-p', '80', '-h', '/www'];
    });
    afterAll(() => fs.rmSync(site, { recursive: true, force: true }));

    it('refuses a port a host process holds, and holds a published port against the host', async () => {
      const holder = execa(
        'nsenter',
        [`--net=/run/netns/${engine.netns}`, 'busybox', 'nc', '-l', '-p', '18201'],
        {
          reject: false,
        },
      );
      try {
        await waitFor(() => listening(engine, 18201), 60_000, 'the host process to listen');
        const refused = await engine.gantry(['run', '-d', '--name', 'late', '-p', '18201:80', ...serve]);
        expect(refused.exitCode).toBe(125);
        expect(refused.stderr).toContain('publish port 0.0.0.0:18201/tcp: EADDRINUSE');
        expect(refused.stderr).toContain('another process of the host holds it');
        expect(leases(engine)).toEqual({});
        expect(await networkLeftovers(engine.netns, engine.root)).toEqual([]);
      } finally {
        holder.kill('SIGKILL');
        await holder;
      }
      await engine.gantry(['rm', '-f', 'late']);
      expect(
        (await engine.gantry(['run', '-d', '--name', 'owner', '-p', '127.0.0.1:18202:80', ...serve]))
          .exitCode,
      ).toBe(0);
      // The monitor holds it: no process of the host can take the port from the container.
      const taker = await engine.inNetns('busybox', ['nc', '-l', '-p', '18202']);
      expect(taker.exitCode).not.toBe(0);
      expect(taker.stderr).toMatch(/Address (already )?in use/i);
      // Nor can another container.
      const second = await engine.gantry(['run', '-d', '--name', 'second', '-p', '18202:80', ...serve]);
      expect(second.exitCode).toBe(125);
      expect(second.stderr).toContain(
        'Bind for 0.0.0.0:18202/tcp failed: port is already allocated (by container owner)',
      );
      expect(Object.keys(leases(engine))).toHaveLength(1);
      await engine.gantry(['rm', '-f', 'owner', 'second']);
      expect(await networkLeftovers(engine.netns, engine.root)).toEqual([]);
    });

    it('publishes exposed ports on free host ports with -P', async () => {
      const id = (
        await engine.gantry(['run', '-d', '--name', 'all', '--expose', '80', '-P', ...serve])
      ).stdout.trim();
      const mapping = (await engine.gantry(['port', 'all', '80'])).stdout.trim();
      expect(mapping).toMatch(/^0\.0\.0\.0:\d+$/);
      const hostPort = Number(mapping.split(':')[1]);
      const [low, high] = (await engine.inNetns('cat', ['/proc/sys/net/ipv4/ip_local_port_range'])).stdout
        .trim()
        .split(/\s+/)
        .map(Number);
      expect(hostPort).toBeGreaterThanOrEqual(low!);
      expect(hostPort).toBeLessThanOrEqual(high!);
      expect(await fetchFromHost(engine, `http://127.0.0.1:${hostPort}/index.html`)).toBe('hello\n');
      expect((await engine.gantry(['ps', '--format', '{{.Ports}}'])).stdout).toBe(
        `0.0.0.0:${hostPort}->80/tcp\n`,
      );
      await engine.gantry(['rm', '-f', id]);
    });

    it('connects a running container to a network and disconnects it again; its peers follow', async () => {
      await engine.gantry(['network', 'create', '--subnet', '10.124.0.0/24', 'side']);
      await engine.gantry(['run', '-d', '--name', 'mover', ...serve]);
      await engine.gantry(['run', '-d', '--name', 'peer', '--network', 'side', ...serve]);
      const connected = await engine.gantry(['network', 'connect', '--alias', 'moved', 'side', 'mover']);
      expect(connected.stderr).toBe('');
      const eth1 = (await engine.gantry(['exec', 'mover', 'ip', '-o', '-4', 'addr', 'show', 'eth1'])).stdout;
      expect(eth1).toMatch(/inet 10\.124\.0\.\d+\/24/);
      expect(
        await untilSucceeds(
          engine,
          ['exec', 'peer', 'wget', '-qO-', 'http://moved/index.html'],
          'peer to reach moved',
        ),
      ).toBe('hello\n');
      const networks = JSON.parse(
        (await engine.gantry(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'mover'])).stdout,
      ) as Record<string, { IPAddress: string }>;
      expect(Object.keys(networks).sort()).toEqual(['bridge', 'side']);
      expect(networks.side!.IPAddress).toMatch(/^10\.124\.0\.\d+$/);
      const again = await engine.gantry(['network', 'connect', 'side', 'mover']);
      expect(again.stderr).toContain('already connected to network side');

      expect((await engine.gantry(['network', 'disconnect', 'side', 'mover'])).exitCode).toBe(0);
      expect((await engine.gantry(['exec', 'mover', 'cat', '/proc/net/dev'])).stdout).not.toContain('eth1');
      expect((await engine.gantry(['exec', 'peer', 'cat', '/etc/hosts'])).stdout).not.toContain('moved');
      const refused = await engine.gantry(['network', 'rm', 'side']);
      expect(refused.stderr).toContain('network side is in use by container peer (running)');
      await engine.gantry(['rm', '-f', 'mover', 'peer']);
      expect((await engine.gantry(['network', 'rm', 'side'])).exitCode).toBe(0);
    });

    it("shares another container's stack with --network container:NAME", async () => {
      await engine.gantry(['run', '-d', '--name', 'owner2', '--hostname', 'ownerhost', ...serve]);
      const joined = await untilSucceeds(
        engine,
        [
          'run',
          '--rm',
          '--network',
          'container:owner2',
          'demo',
          'wget',
          '-qO-',
          'http://127.0.0.1:80/index.html',
        ],
        'the joined container to reach the owner on lo',
      );
      expect(joined).toBe('hello\n');
      const view = await engine.gantry([
        'run',
        '--rm',
        '--network',
        'container:owner2',
        'demo',
        'sh',
        '-c',
        'hostname; cat /etc/hosts',
      ]);
      expect(view.stdout).toMatch(/^ownerhost\n/);
      expect(view.stdout).toMatch(/10\.88\.0\.\d+\townerhost/);
      const refused = await engine.gantry([
        'run',
        '--rm',
        '--network',
        'container:owner2',
        '-p',
        '81:81',
        'demo',
        'true',
      ]);
      expect(refused.stderr).toContain('-p cannot be used with --network container:owner2');
      await engine.gantry(['rm', '-f', 'owner2']);
    });

    it('keeps an --internal network in: no default route, no published port, peers reachable', async () => {
      await engine.gantry(['network', 'create', '--internal', 'closed']);
      await engine.gantry(['run', '-d', '--name', 'inner', '--network', 'closed', ...serve]);
      await engine.gantry(['run', '-d', '--name', 'inner2', '--network', 'closed', ...serve]);
      const routes = (await engine.gantry(['exec', 'inner', 'ip', 'route'])).stdout;
      expect(routes).toMatch(/^10\.\d+\.\d+\.0\/\d+ dev eth0/);
      expect(routes).not.toContain('default');
      expect(
        await untilSucceeds(
          engine,
          ['exec', 'inner2', 'wget', '-qO-', 'http://inner/index.html'],
          'inner2 to reach inner',
        ),
      ).toBe('hello\n');
      const published = await engine.gantry([
        'run',
        '-d',
        '--name',
        'inner3',
        '--network',
        'closed',
        '-p',
        '18203:80',
        ...serve,
      ]);
      expect(published.stderr).toContain('published ports need a network with a route out');
      const rules = (await engine.inNetns('nft', ['list', 'table', 'ip', 'gantry'])).stdout;
      expect(rules).toMatch(/iifname "gantry\d+" oifname != "gantry\d+" drop/);
      await engine.gantry(['rm', '-f', 'inner', 'inner2', 'inner3']);
      await engine.gantry(['network', 'rm', 'closed']);
    });

    it("gives the container the uplink's MTU", async () => {
      // An uplink with a smaller MTU and the default route through it, in the test's namespace only.
      await engine.inNetns('ip', ['link', 'add', 'uplink0', 'mtu', '1400', 'type', 'bridge']);
      await engine.inNetns('ip', ['addr', 'add', '10.250.0.1/24', 'dev', 'uplink0']);
      await engine.inNetns('ip', ['link', 'set', 'uplink0', 'up']);
      const route = await engine.inNetns('ip', [
        'route',
        'add',
        'default',
        'via',
        '10.250.0.254',
        'dev',
        'uplink0',
        'onlink',
      ]);
      expect(route.stderr).toBe('');
      try {
        await engine.gantry(['run', '-d', '--name', 'mtu', 'demo', 'sleep', '300']);
        expect((await engine.gantry(['exec', 'mtu', 'cat', '/sys/class/net/eth0/mtu'])).stdout).toBe(
          '1400\n',
        );
        await engine.gantry(['rm', '-f', 'mtu']);
      } finally {
        await engine.inNetns('ip', ['link', 'del', 'uplink0']);
      }
    });

    it('writes --hostname, --add-host, --dns, --dns-search and --dns-option into /etc', async () => {
      const result = await engine.gantry([
        'run',
        '--rm',
        '--hostname',
        'box',
        '--add-host',
        'db.internal:192.0.2.10',
        '--add-host',
        'gw:host-gateway',
        '--dns',
        '192.0.2.53',
        '--dns-search',
        'corp.example',
        '--dns-option',
        'ndots:2',
        'demo',
        'sh',
        '-c',
        'cat /etc/hosts /etc/resolv.conf; ip -o -4 addr show eth0',
      ]);
      expect(result.exitCode).toBe(0);
      const address = /inet (10\.88\.0\.\d+)\//.exec(result.stdout)?.[1];
      expect(address).toBeDefined();
      expect(result.stdout).toContain(`${address}\tbox\n`);
      expect(result.stdout).toContain('192.0.2.10\tdb.internal\n');
      expect(result.stdout).toContain('10.88.0.1\tgw\n');
      expect(result.stdout).toContain('nameserver 192.0.2.53\n');
      expect(result.stdout).toContain('search corp.example\n');
      expect(result.stdout).toContain('options ndots:2\n');
    });

    it('writes its rules with iptables when told to, and removes its chains', async () => {
      const env = { ...engine.env, GANTRY_DEFAULT_NETWORK: '', GANTRY_FIREWALL: 'iptables' };
      await engine.gantry(['run', '-d', '--name', 'legacy', '-p', '127.0.0.1:18204:80', ...serve], { env });
      expect(await fetchFromHost(engine, 'http://127.0.0.1:18204/index.html')).toBe('hello\n');
      const saved = (await engine.inNetns('iptables-save', [])).stdout;
      expect(saved).toMatch(
        /-A GANTRY-HOSTPORTS -d 127\.0\.0\.1\/32 -p tcp -m tcp --dport 18204 .* -j DNAT --to-destination 10\.88\.0\.\d+:80/,
      );
      expect((await engine.inNetns('nft', ['list', 'tables'])).stdout).not.toContain('table ip gantry');
      const inspect = JSON.parse((await engine.gantry(['network', 'inspect', 'bridge'], { env })).stdout) as {
        Firewall: string;
      }[];
      expect(inspect[0]!.Firewall).toBe('iptables');
      // The state remembers the backend: a process without GANTRY_FIREWALL removes the same rules.
      await engine.gantry(['rm', '-f', 'legacy']);
      expect((await engine.inNetns('iptables-save', [])).stdout).not.toContain('GANTRY');
      expect(await networkLeftovers(engine.netns, engine.root)).toEqual([]);
    });

    it('releases the address, veth and rules of a container whose monitor was killed', async () => {
      const id = (
        await engine.gantry(['run', '-d', '--name', 'orphan', '-p', '18205:80', ...serve])
      ).stdout.trim();
      const pid = Number((await engine.gantry(['inspect', '-f', '{{.State.Pid}}', id])).stdout);
      const monitor = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      process.kill(monitor, 'SIGKILL');
      await waitFor(
        async () =>
          (await engine.gantry(['ps', '-a', '--format', '{{.Names}} {{.State}}'])).stdout.includes(
            'orphan exited',
          ),
        60_000,
        'the container to be seen exited',
      );
      expect(leases(engine)).toEqual({});
      expect(await networkLeftovers(engine.netns, engine.root)).toEqual([]);
      await engine.gantry(['rm', id]);
    });

    it("counts NET I/O on the container's own interface", async () => {
      await engine.gantry(['run', '-d', '--name', 'counted', ...serve]);
      const address = (
        await engine.gantry(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'counted'])
      ).stdout.trim();
      const body = await fetchFromHost(engine, `http://${address}/big`);
      expect(body.length).toBe(1024 * 1024);
      const [sample] = JSON.parse(
        (await engine.gantry(['stats', '--no-stream', '--json', 'counted'])).stdout,
      ) as {
        netTxBytes: number;
        netRxBytes: number;
      }[];
      // What the kernel counted on eth0 inside the container, read there.
      const devices = (await engine.gantry(['exec', 'counted', 'cat', '/proc/net/dev'])).stdout;
      const eth0 = devices
        .split('\n')
        .find((line) => line.trim().startsWith('eth0:'))!
        .split(':')[1]!
        .trim()
        .split(/\s+/)
        .map(Number);
      expect(sample!.netTxBytes).toBeGreaterThan(1024 * 1024);
      expect(sample!.netTxBytes).toBeLessThanOrEqual(eth0[8]!);
      expect(sample!.netRxBytes).toBeGreaterThan(0);
      expect(sample!.netRxBytes).toBeLessThanOrEqual(eth0[0]!);
      await engine.gantry(['rm', '-f', 'counted']);
    });
  },
);
