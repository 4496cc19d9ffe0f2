/** Published-port syntax, --ip, the firewall model and its nftables / iptables renderings, /etc files. */
import { describe, expect, it } from 'vitest';
import { containerResolvConf } from '../../../source/runtime/containers/etc-files.js';
import { networkFields } from '../../../source/runtime/containers/network-options.js';
import { presentIn, renderIptables } from '../../../source/runtime/network/firewall/iptables.js';
import { firewallModel } from '../../../source/runtime/network/firewall/model.js';
import { checkStaticAddress, newEndpoint } from '../../../source/runtime/network/endpoints.js';
import { renderNftables } from '../../../source/runtime/network/firewall/nftables.js';
import { networkedHosts, parseExtraHost } from '../../../source/runtime/network/hosts-file.js';
import { formatPorts, portBindingsFrom } from '../../../source/runtime/network/ports.js';
import type { NetworkConfig, NetworkState } from '../../../source/runtime/network/types.js';

describe('-p', () => {
  it("parses docker's forms, ranges included", () => {
    expect(
      portBindingsFrom(['127.0.0.1:18080:80', '8080:80/udp', '443', '0.0.0.0::53/udp', '9000-9001:90-91']),
    ).toEqual({
      '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }],
      '80/udp': [{ HostIp: '', HostPort: '8080' }],
      '443/tcp': [{ HostIp: '', HostPort: '' }],
      '53/udp': [{ HostIp: '', HostPort: '' }],
      '90/tcp': [{ HostIp: '', HostPort: '9000' }],
      '91/tcp': [{ HostIp: '', HostPort: '9001' }],
    });
  });

  it('refuses what it cannot publish, saying what is accepted', () => {
    expect(() => portBindingsFrom(['80/sctp'])).toThrow(/unsupported protocol "sctp"/);
    expect(() => portBindingsFrom(['[::1]:80:80'])).toThrow(/IPv6 host addresses are not supported/);
    expect(() => portBindingsFrom(['localhost:80:80'])).toThrow(/"localhost" is not an IPv4 address/);
    expect(() => portBindingsFrom(['0:80'])).toThrow(/not a valid host port/);
    expect(() => portBindingsFrom(['80:70000'])).toThrow(/not a valid container port/);
    expect(() => portBindingsFrom(['9000-9002:90-91'])).toThrow(
      /host range has 3 ports and the container range 2/,
    );
  });

  it("formats ps's PORTS column as docker does", () => {
    const ports = [
      { protocol: 'tcp' as const, containerPort: 443, hostIp: '', hostPort: 32768 },
      { protocol: 'tcp' as const, containerPort: 80, hostIp: '127.0.0.1', hostPort: 18080 },
    ];
    expect(formatPorts(ports, ['80/tcp', '53/udp'])).toBe(
      '127.0.0.1:18080->80/tcp, 0.0.0.0:32768->443/tcp, 53/udp',
    );
  });

  it('refuses flags that mean nothing with the network mode', () => {
    expect(() => networkFields({ network: 'host', publish: ['80'] })).toThrow(
      /-p cannot be used with --network host/,
    );
    expect(() => networkFields({ network: 'none', publishAll: true })).toThrow(
      /-P cannot be used with --network none/,
    );
    expect(() => networkFields({ network: 'bridge', networkAliases: ['x'] })).toThrow(
      /only for containers on user-defined/,
    );
    expect(() => networkFields({ network: 'container:web', dns: ['192.0.2.1'] })).toThrow(
      /--dns cannot be used/,
    );
    expect(() => networkFields({ network: 'container:web', hostname: 'h' })).toThrow(
      /--hostname cannot be used/,
    );
    expect(() => networkFields({ network: 'bridge', dns: ['resolver'] })).toThrow(/is not an IP address/);
    expect(() => networkFields({ network: 'bad/name' })).toThrow(/not a mode or a network name/);
    const fields = networkFields(
      { network: 'apps', publish: ['8080:80'], expose: ['53/udp'], networkAliases: ['db'] },
      {
        '443/tcp': {},
      },
    );
    expect(Object.keys(fields.exposedPorts).sort()).toEqual(['443/tcp', '53/udp', '80/tcp']);
    expect(fields.settings?.Networks.apps?.Aliases).toEqual(['db']);
  });
});

const configs = new Map<string, NetworkConfig>([
  [
    'bridge',
    {
      Name: 'bridge',
      Id: 'a'.repeat(64),
      Created: '',
      Driver: 'bridge',
      Bridge: 'gantry0',
      Subnet: '10.88.0.0/16',
      Gateway: '10.88.0.1',
      Internal: false,
      Labels: {},
    },
  ],
  [
    'quiet',
    {
      Name: 'quiet',
      Id: 'b'.repeat(64),
      Created: '',
      Driver: 'bridge',
      Bridge: 'gantry1',
      Subnet: '10.89.0.0/16',
      Gateway: '10.89.0.1',
      Internal: true,
      Labels: {},
    },
  ],
]);

function endpoint(network: string, address: string, names: string[]) {
  return {
    network,
    address,
    prefixLength: 16,
    gateway: '',
    mac: '',
    interface: 'eth0',
    hostInterface: 'gtv',
    names,
  };
}

const state: NetworkState = {
  version: 1,
  cursors: {},
  containers: {
    ['1'.repeat(64)]: {
      name: 'web',
      hosts: { file: '/x', hostname: 'webhost', extra: ['db.local:192.0.2.7'] },
      endpoints: [endpoint('bridge', '10.88.0.2', ['web'])],
      ports: [{ protocol: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPort: 18080 }],
      attached: true,
    },
    ['2'.repeat(64)]: {
      name: 'cache',
      hosts: { file: '/y', hostname: 'cachehost', extra: [] },
      endpoints: [endpoint('quiet', '10.89.0.2', ['cache', 'c1'])],
      ports: [],
      attached: true,
    },
    ['3'.repeat(64)]: {
      name: 'worker',
      hosts: { file: '/z', hostname: 'workerhost', extra: ['gw:host-gateway'] },
      endpoints: [{ ...endpoint('quiet', '10.89.0.3', ['worker']), gateway: '10.89.0.1' }],
      ports: [],
      attached: true,
    },
  },
};

describe('firewall', () => {
  const model = firewallModel(state, configs);

  it('wants a DNAT per published port, masquerade for routed networks, isolation and internal drops', () => {
    expect(model.dnat).toEqual([
      {
        owner: '1'.repeat(64),
        protocol: 'tcp',
        hostIp: '127.0.0.1',
        hostPort: 18080,
        address: '10.88.0.2',
        containerPort: 80,
      },
    ]);
    const nft = renderNftables(model);
    expect(nft).toContain(
      `ip daddr 127.0.0.1 tcp dport 18080 dnat to 10.88.0.2:80 comment "${'1'.repeat(64)}"`,
    );
    expect(nft).toContain('ip saddr 10.88.0.0/16 oifname != "gantry0" masquerade');
    expect(nft).not.toContain('ip saddr 10.89.0.0/16 oifname != "gantry1" masquerade');
    expect(nft).toContain('iifname "gantry0" oifname { "gantry1" } drop');
    expect(nft).toContain('iifname "gantry1" oifname != "gantry1" drop');
  });

  it('renders the same model for iptables-restore, adding jumps only once', () => {
    const fresh = renderIptables(model, { jumps: new Set(), chains: new Set() });
    expect(fresh).toContain(
      `-A GANTRY-HOSTPORTS -d 127.0.0.1/32 -p tcp -m tcp --dport 18080 -m comment --comment ${'1'.repeat(64)} -j DNAT --to-destination 10.88.0.2:80`,
    );
    expect(fresh).toContain('-I PREROUTING -j GANTRY-PREROUTING');
    const present = presentIn('-A PREROUTING -j GANTRY-PREROUTING\n:GANTRY-PREROUTING - [0:0]\n');
    expect(renderIptables(model, present)).not.toContain('-I PREROUTING');
    // Nothing active: jumps and chains go; nothing there: nothing to do.
    const teardown = renderIptables({ bridges: [], dnat: [] }, present);
    expect(teardown).toContain('-D PREROUTING -j GANTRY-PREROUTING');
    expect(teardown).toContain('-X GANTRY-HOSTPORTS');
    expect(renderIptables({ bridges: [], dnat: [] }, { jumps: new Set(), chains: new Set() })).toBe('');
  });
});

const fqdnEntry = {
  name: 'web',
  hosts: { file: '/w', hostname: 'web.example.com', extra: [] },
  endpoints: [endpoint('bridge', '10.88.0.9', ['web'])],
  ports: [],
  attached: true,
};

describe('--ip', () => {
  const quiet = configs.get('quiet')!;
  const request = { id: '4'.repeat(64), name: 'fixed', aliases: [], interface: 'eth0' };

  it('takes the address asked for on a user network, leaving the cursor where it was', () => {
    const next: NetworkState = { ...state, cursors: { quiet: '10.89.0.3' } };
    const lease = newEndpoint(next, quiet, { ...request, address: '10.89.3.4' });
    expect(lease.address).toBe('10.89.3.4');
    expect(lease.mac).toBe('02:42:0a:59:03:04');
    expect(next.cursors.quiet).toBe('10.89.0.3');
  });

  it('refuses an address in use, outside the subnet, the gateway, and on the default network', () => {
    expect(() => newEndpoint(state, quiet, { ...request, address: '10.89.0.2' })).toThrow(
      'address 10.89.0.2 on network quiet is in use by container cache',
    );
    for (const address of ['10.90.0.2', '10.89.0.1', '10.89.0.0', '10.89.255.255'])
      expect(() => checkStaticAddress(quiet, address)).toThrow(
        `--ip ${address} is not an address a container can have on network quiet (10.89.0.0/16, gateway 10.89.0.1)`,
      );
    expect(() => checkStaticAddress(configs.get('bridge')!, '10.88.0.5')).toThrow(
      /supported only for containers on user-defined networks/,
    );
    expect(() => networkFields({ network: 'bridge', ip: '10.88.0.5' })).toThrow(
      /--ip is supported only for containers on user-defined networks/,
    );
    expect(() => networkFields({ network: 'apps', ip: '10.88.0' })).toThrow(/is not an IPv4 address/);
    expect(networkFields({ network: 'apps', ip: '10.89.0.7' }).settings?.Networks.apps?.IPAMConfig).toEqual({
      IPv4Address: '10.89.0.7',
    });
  });
});

describe('/etc files', () => {
  it('lists peers of user networks only, with their names and aliases, and --add-host', () => {
    const worker = networkedHosts(state, '3'.repeat(64));
    expect(worker).toContain('10.89.0.3\tworkerhost');
    expect(worker).toContain('10.89.0.2\tcache c1');
    expect(worker).toContain('10.89.0.1\tgw');
    // A fully qualified host name is listed by its first label too, as docker does.
    expect(networkedHosts({ ...state, containers: { x: fqdnEntry } }, 'x')).toContain(
      '10.88.0.9\tweb.example.com web\n',
    );
    const web = networkedHosts(state, '1'.repeat(64));
    expect(web).toContain('192.0.2.7\tdb.local');
    // The default bridge resolves no names, as docker's does not.
    expect(web).not.toContain('cache');
    expect(() => parseExtraHost('nocolon')).toThrow(/expected NAME:IP/);
    expect(parseExtraHost('db=10.0.0.5')).toEqual({ name: 'db', address: '10.0.0.5' });
  });

  it("keeps the host's resolv.conf but loopback servers, then --dns, --dns-search, --dns-option", () => {
    const files: Record<string, string> = {
      '/etc/resolv.conf': 'search corp.example\nnameserver 127.0.0.53\noptions edns0\n',
      '/run/systemd/resolve/resolv.conf': 'nameserver 192.0.2.53\nnameserver 127.0.0.1\n',
    };
    const read = (file: string) => files[file];
    expect(containerResolvConf('bridge', {}, read)).toBe(
      'search corp.example\noptions edns0\nnameserver 192.0.2.53\n',
    );
    expect(containerResolvConf('host', {}, read)).toBe(files['/etc/resolv.conf']);
    expect(
      containerResolvConf(
        'bridge',
        { dns: ['192.0.2.1'], dnsSearch: ['a.example'], dnsOptions: ['ndots:2'] },
        read,
      ),
    ).toBe('nameserver 192.0.2.1\nsearch a.example\noptions ndots:2\n');
    expect(containerResolvConf('bridge', { dnsSearch: ['.'] }, read)).not.toContain('search');
    // Only loopback servers and no systemd-resolved upstream: docker's fallback servers.
    const loopbackOnly = (file: string) =>
      file === '/etc/resolv.conf' ? 'nameserver 127.0.0.53\noptions edns0\n' : undefined;
    expect(containerResolvConf('bridge', {}, loopbackOnly)).toBe(
      'options edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n',
    );
    expect(containerResolvConf('bridge', { dns: ['192.0.2.1'] }, loopbackOnly)).toBe(
      'options edns0\nnameserver 192.0.2.1\n',
    );
  });
});
