/**
 * kill -9 of `gantry run -d -p` at every phase of its start, one after the other: the phases are
 * read from a traced run (GANTRY_TRACE=1), and GANTRY_TRACE_STOP makes the CLI stop itself at the
 * chosen one, so each kill lands exactly there. After each kill and the reconciliation any gantry
 * command does, no address is leased twice, every lease and every rule belongs to a running
 * container, and every veth to a lease; a new container then gets the same port.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { engineForSuite, waitFor, type TestEngine } from '../../support/engine.js';
import { describeUnless, needsCommand, needsRoot } from '../../support/skip.js';

interface State {
  containers: Record<string, { endpoints: { network: string; address: string; hostInterface: string }[] }>;
}

function readState(engine: TestEngine): State {
  try {
    return JSON.parse(fs.readFileSync(path.join(engine.root, 'networks', 'state.json'), 'utf8')) as State;
  } catch {
    return { containers: {} };
  }
}

/** Container ids the firewall's rules carry (each DNAT rule's comment is its container's id). */
async function ruleOwners(engine: TestEngine): Promise<string[]> {
  const ruleset = (await engine.inNetns('nft', ['list', 'ruleset'])).stdout;
  return [...ruleset.matchAll(/comment "([0-9a-f]{64})"/g)].map((match) => match[1]!);
}

async function veths(engine: TestEngine): Promise<string[]> {
  const links = JSON.parse((await engine.inNetns('ip', ['-j', 'link', 'show'])).stdout) as {
    ifname: string;
  }[];
  return links.map((link) => link.ifname).filter((name) => name.startsWith('gtv'));
}

/** What must hold after any kill, once a gantry command has reconciled. */
async function checkInvariants(engine: TestEngine, phase: string): Promise<void> {
  const ps = JSON.parse((await engine.gantry(['ps', '-a', '--json'])).stdout) as {
    Id: string;
    State: string;
  }[];
  const running = new Set(ps.filter((row) => row.State === 'running').map((row) => row.Id));
  const state = readState(engine);
  const addresses = Object.values(state.containers).flatMap((entry) =>
    entry.endpoints.map((endpoint) => `${endpoint.network}/${endpoint.address}`),
  );
  expect(new Set(addresses).size, `${phase}: an address leased twice`).toBe(addresses.length);
  for (const id of Object.keys(state.containers))
    expect(running.has(id), `${phase}: lease of container ${id.slice(0, 12)}, which is not running`).toBe(
      true,
    );
  for (const owner of await ruleOwners(engine))
    expect(
      state.containers[owner],
      `${phase}: a rule of container ${owner.slice(0, 12)} without a lease`,
    ).toBeDefined();
  const leased = new Set(
    Object.values(state.containers).flatMap((entry) =>
      entry.endpoints.map((endpoint) => endpoint.hostInterface),
    ),
  );
  for (const veth of await veths(engine))
    expect(leased.has(veth), `${phase}: veth ${veth} without a lease`).toBe(true);
}

function processState(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
  } catch {
    return undefined;
  }
}

const RUN = ['run', '-d', '-p', '127.0.0.1:18100:80', 'demo', 'sleep', '300'];

describeUnless([needsRoot(), needsCommand('nft', 'nftables')], 'kill -9 of run -d -p at every phase', () => {
  const engine = engineForSuite('net-soak');

  it('leaves no address leased twice and no lease, rule or veth without a running container', async () => {
    // The first start makes the default network once; the phases traced are those of every start.
    await engine.gantry([...RUN.slice(0, 2), '--name', 'first', ...RUN.slice(2)]);
    await engine.gantry(['rm', '-f', 'first']);
    const traced = await engine.gantry([...RUN.slice(0, 2), '--name', 'traced', ...RUN.slice(2)], {
      env: { ...engine.env, GANTRY_DEFAULT_NETWORK: '', GANTRY_TRACE: '1' },
    });
    expect(traced.exitCode).toBe(0);
    const labels = traced.stderr
      .split('\n')
      .map((line) => /^\[gantry [^\]]*\] (.*)$/.exec(line)?.[1])
      .filter((label): label is string => label !== undefined && !label.startsWith('cli:'));
    // Every phase from the record's creation to the release from the exec fifo, networking's among them.
    expect(labels).toContain('network: reserved');
    expect(labels).toContain('network: attached');
    await engine.gantry(['rm', '-f', 'traced']);
    await checkInvariants(engine, 'after rm');

    const occurrences = new Map<string, number>();
    const phases = labels.map((label) => {
      const count = (occurrences.get(label) ?? 0) + 1;
      occurrences.set(label, count);
      return `${label}@${count}`;
    });
    for (const [index, phase] of phases.entries()) {
      const child = engine.spawn([...RUN.slice(0, 2), '--name', `k${index}`, ...RUN.slice(2)], {
        stdin: 'ignore',
        env: { ...engine.env, GANTRY_DEFAULT_NETWORK: '', GANTRY_TRACE_STOP: phase },
      });
      // Stopped at the phase (it sends itself SIGSTOP there): killed exactly at that point.
      await waitFor(
        () => processState(child.pid!) === 'T' || child.exitCode !== null,
        60_000,
        `the stop at ${phase}`,
      );
      expect(child.exitCode, `${phase} was never reached`).toBeNull();
      child.kill('SIGKILL');
      await child;
      await checkInvariants(engine, phase);
      // Killed before its record was written, the container does not exist.
      const removed = await engine.gantry(['rm', '-f', `k${index}`]);
      if (removed.exitCode !== 0)
        expect(removed.stderr, `rm -f after ${phase}`).toContain('no such container');
      await checkInvariants(engine, `${phase}, then rm -f`);
    }

    // Nothing the kills left holds the port, an address or a rule: a new container gets them.
    const again = await engine.gantry([...RUN.slice(0, 2), '--name', 'again', ...RUN.slice(2)]);
    expect(again.stderr).toBe('');
    expect((await engine.gantry(['port', 'again'])).stdout).toBe('80/tcp -> 127.0.0.1:18100\n');
    expect(Object.keys(readState(engine).containers)).toHaveLength(1);
    expect(await ruleOwners(engine)).toEqual([again.stdout.trim()]);
    // A start, a kill, a reconciliation and a removal per phase: minutes on a loaded machine.
  }, 1_200_000);
});
