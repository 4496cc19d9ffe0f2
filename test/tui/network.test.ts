/** What the TUI shows of networking: a container's address and ports, rx/tx rates, the net class. */
import { describe, expect, it } from 'vitest';
import { containerRow, CONTAINER_COLUMNS } from '../../source/tui/panes/container-cells.js';
import { limitDefinition } from '../../source/tui/state/limit-definitions.js';
import { deriveSeries } from '../../source/tui/state/stats.js';
import { createTheme } from '../../source/tui/theme.js';
import { container, sample } from './support/fixtures.js';

const theme = createTheme('dark', {});

function networked() {
  const record = container('web');
  record.HostConfig.NetworkMode = 'bridge';
  record.Config.ExposedPorts = { '80/tcp': {}, '53/udp': {} };
  record.NetworkSettings = {
    Networks: {
      bridge: {
        Aliases: [],
        NetworkID: 'n',
        EndpointID: 'gtv0',
        Gateway: '10.88.0.1',
        IPAddress: '10.88.0.7',
        IPPrefixLen: 16,
        MacAddress: '02:42:0a:58:00:07',
      },
    },
    Ports: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }], '53/udp': null },
  };
  return record;
}

describe('networking in the Containers pane', () => {
  it("shows a running container's address and ports (exposed ones too), nothing once it stopped", () => {
    const record = networked();
    const row = containerRow(record, undefined, undefined, Date.now(), theme);
    expect(row.cells.address).toBe('10.88.0.7');
    expect(row.cells.ports).toBe('127.0.0.1:18080->80/tcp, 53/udp');
    const stopped = { ...record, State: { ...record.State, Status: 'exited' as const } };
    const gone = containerRow(stopped, undefined, undefined, Date.now(), theme);
    expect(gone.cells.address).toBe('');
    expect(gone.cells.ports).toBe('');
    const host = container('host-net');
    host.HostConfig.NetworkMode = 'host';
    expect(containerRow(host, undefined, undefined, Date.now(), theme).cells.address).toBe('host');
    // The columns give way before the figures on a narrow terminal.
    const priority = (key: string) => CONTAINER_COLUMNS.find((column) => column.key === key)!.priority;
    expect(priority('ports')).toBeLessThan(priority('id'));
    expect(priority('address')).toBeLessThan(priority('id'));
  });

  it('derives rx/tx rates from two full samples, and none across a summary one', () => {
    const record = networked();
    const first = deriveSeries(sample(record, 1000, {}, { netRxBytes: 1000, netTxBytes: 5000 }), undefined);
    expect(first.netRxRate).toBeUndefined();
    const second = deriveSeries(sample(record, 3000, {}, { netRxBytes: 3000, netTxBytes: 105_000 }), first);
    expect(second.netRxRate).toBe(1000);
    expect(second.netTxRate).toBe(50_000);
    expect(second.history.netTx).toEqual([50_000]);
    const summary = deriveSeries(sample(record, 4000), second);
    expect(summary.netTxRate).toBeUndefined();
    expect(summary.history.netTx).toEqual([50_000]);
  });

  it('lists the egress class id, in the form tc and the CLI take; it is set at create', () => {
    const definition = limitDefinition('netClass');
    expect(definition.display({})).toBe('none');
    expect(definition.display({ netClsClassid: 0x100001 })).toBe('0x100001');
    expect(definition.editable).toBe(false);
    expect(() => definition.parse('0x10002', {})).toThrow(/set when the container is created/);
  });
});
