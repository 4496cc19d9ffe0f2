/**
 * A net_cls class id classifies a bridge container's egress on its veth, and a --net-prio
 * priority applies to it, shown with tc: an HTB qdisc on the container's eth0 counts the
 * container's packets in the class the id (or the priority) names, and everything else (ARP) in
 * the default class. net_cls is not mounted on this host and its mounts
 * are never changed, so (as net-cgroups.int.test.ts does) a helper mounts the v1 hierarchy in a
 * private mount namespace; gantry runs in that mount namespace and the suite's network namespace.
 */
import { execa } from 'execa';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineForSuite, GANTRY, testName, waitFor, type RunResult } from '../../support/engine.js';
import { describeUnless, needsCommand, needsRoot } from '../../support/skip.js';

function kernelHasNetCls(): boolean {
  try {
    return /^net_cls\t\S+\t\S+\t1$/m.test(fs.readFileSync('/proc/cgroups', 'utf8'));
  } catch {
    return false;
  }
}

/** Packets a class of the HTB qdisc on eth0 of process `pid`'s namespace has sent. */
async function classPackets(pid: number): Promise<Record<string, number>> {
  const text = String(
    (await execa('nsenter', [`--net=/proc/${pid}/ns/net`, 'tc', '-s', 'class', 'show', 'dev', 'eth0']))
      .stdout,
  );
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/class htb (\S+) [^\n]*\n\s*Sent \d+ bytes (\d+) pkt/g))
    counts[match[1]!] = Number(match[2]);
  return counts;
}

describeUnless(
  [
    needsRoot(),
    needsCommand('nft', 'nftables'),
    needsCommand('tc', 'iproute2'),
    needsCommand('unshare', 'util-linux'),
    !fs.existsSync('/proc/cgroups') || kernelHasNetCls()
      ? undefined
      : 'this kernel has no net_cls controller',
    fs.existsSync('/sys/fs/cgroup/memory')
      ? undefined
      : 'net_cls is a cgroup v1 controller and this host has no v1 hierarchies',
  ],
  'net_cls class ids and net_prio priorities on the container veth',
  () => {
    const engine = engineForSuite('net-class');
    const mountParent = path.join('/tmp', testName(`netclass-${process.pid}`));
    const hierarchy = path.join(mountParent, 'net_cls,net_prio');
    let holder: ChildProcess | undefined;
    let holderPid = 0;

    /** gantry in the helper's mount namespace and the suite's network namespace. */
    const gantry = async (args: readonly string[]): Promise<RunResult> => {
      const result = await execa(
        'nsenter',
        [
          '-t',
          String(holderPid),
          '-m',
          `--net=/run/netns/${engine.netns}`,
          '--',
          process.execPath,
          GANTRY,
          ...args,
        ],
        { env: { ...engine.env, GANTRY_DEFAULT_NETWORK: '' }, reject: false, stdin: 'ignore' },
      );
      return {
        stdout: String(result.stdout),
        stderr: String(result.stderr),
        exitCode: result.exitCode ?? 128,
      };
    };

    beforeAll(async () => {
      fs.mkdirSync(hierarchy, { recursive: true });
      holder = spawn(
        'unshare',
        [
          '--mount',
          '--propagation',
          'private',
          '--',
          'sh',
          '-c',
          'mount -t cgroup -o net_cls,net_prio cgroup "$1" && echo mounted && exec sleep 3600',
          'sh',
          hierarchy,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      holder.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      holder.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await waitFor(
        () => output.includes('mounted') || holder?.exitCode !== null,
        60_000,
        'the private mount',
      );
      expect(output).toContain('mounted');
      holderPid = holder.pid!;
    });

    afterAll(async () => {
      if (holderPid) {
        // Inside the mount namespace: outside it, the containers' net_cls cgroups are not seen.
        const listed = await gantry(['ps', '-aq', '--no-trunc']);
        for (const id of listed.stdout.split('\n').filter(Boolean)) await gantry(['rm', '-f', id]);
        const parent = path.join(`/proc/${holderPid}/root`, hierarchy, engine.cgroupParent);
        if (fs.existsSync(parent)) fs.rmdirSync(parent);
        await execa('nsenter', ['-t', String(holderPid), '-m', '--', 'umount', hierarchy], { reject: false });
        holder?.kill('SIGKILL');
      }
      fs.rmSync(mountParent, { recursive: true, force: true });
    });

    it('puts what the container sends in the class its --net-cls-classid names, counted by tc', async () => {
      const target = await gantry(['run', '-d', '--name', 'target', 'demo', 'httpd', '-f', '-p', '80']);
      expect(target.stderr).toBe('');
      const address = (
        await gantry(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'target'])
      ).stdout.trim();
      const run = await gantry([
        'run',
        '-d',
        '--name',
        'classed',
        '--net-cls-classid',
        '0x100001',
        'demo',
        'sleep',
        '300',
      ]);
      expect(run.stderr).toBe('');
      const pid = Number((await gantry(['inspect', '-f', '{{.State.Pid}}', 'classed'])).stdout.trim());
      expect(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toMatch(/net_cls,net_prio:\/.+/);
      // The qdisc an administrator would put on the interface: class 10:1 is the id's, 10:2 the rest.
      const tc = (...args: string[]) => execa('nsenter', [`--net=/proc/${pid}/ns/net`, 'tc', ...args]);
      await tc('qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '10:', 'htb', 'default', '2');
      await tc('class', 'add', 'dev', 'eth0', 'parent', '10:', 'classid', '10:1', 'htb', 'rate', '100mbit');
      await tc('class', 'add', 'dev', 'eth0', 'parent', '10:', 'classid', '10:2', 'htb', 'rate', '100mbit');
      // The container has sent nothing yet (the kernel's own ARP and IPv6 chatter is 10:2's).
      expect((await classPackets(pid))['10:1']).toBe(0);

      // The container fetches from the other one: its packets, and nothing else, are 0x100001's.
      await waitFor(
        async () =>
          (await gantry(['exec', 'classed', 'wget', '-qO-', `http://${address}/`])).stderr.includes('404'),
        90_000,
        'a request to reach the target',
      );
      const after = await classPackets(pid);
      expect(after['10:1']).toBeGreaterThanOrEqual(3);
      // The target's own container has no class id: its veth has no rule, its traffic no class.
      const targetPid = Number((await gantry(['inspect', '-f', '{{.State.Pid}}', 'target'])).stdout.trim());
      const targetRules = await execa('nsenter', [
        `--net=/proc/${targetPid}/ns/net`,
        'nft',
        'list',
        'ruleset',
      ]);
      expect(String(targetRules.stdout)).toBe('');
      const rules = await execa('nsenter', [`--net=/proc/${pid}/ns/net`, 'nft', 'list', 'ruleset']);
      expect(String(rules.stdout)).toContain('meta priority set meta cgroup');
      await gantry(['rm', '-f', 'classed', 'target']);
    });

    it('gives what the container sends by an interface the --net-prio priority tc classifies on', async () => {
      const target = await gantry(['run', '-d', '--name', 'target2', 'demo', 'httpd', '-f', '-p', '80']);
      expect(target.stderr).toBe('');
      const address = (
        await gantry(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'target2'])
      ).stdout.trim();
      // 0x100001 is HTB class 10:1 as a priority; "gtx9" is an interface no namespace here has
      // (net_prio.ifpriomap, which knows only the host's first namespace, would refuse it).
      const run = await gantry([
        'run',
        '-d',
        '--name',
        'prioritised',
        '--net-prio',
        `eth0=${0x100001}`,
        '--net-prio',
        'gtx9=5',
        'demo',
        'sleep',
        '300',
      ]);
      expect(run.stderr).toBe('');
      expect(run.exitCode).toBe(0);
      const pid = Number((await gantry(['inspect', '-f', '{{.State.Pid}}', 'prioritised'])).stdout.trim());
      const tc = (...args: string[]) => execa('nsenter', [`--net=/proc/${pid}/ns/net`, 'tc', ...args]);
      await tc('qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '10:', 'htb', 'default', '2');
      await tc('class', 'add', 'dev', 'eth0', 'parent', '10:', 'classid', '10:1', 'htb', 'rate', '100mbit');
      await tc('class', 'add', 'dev', 'eth0', 'parent', '10:', 'classid', '10:2', 'htb', 'rate', '100mbit');
      expect((await classPackets(pid))['10:1']).toBe(0);
      await waitFor(
        async () =>
          (await gantry(['exec', 'prioritised', 'wget', '-qO-', `http://${address}/`])).stderr.includes(
            '404',
          ),
        90_000,
        'a request to reach the target',
      );
      expect((await classPackets(pid))['10:1']).toBeGreaterThanOrEqual(3);
      const rules = await execa('nsenter', [`--net=/proc/${pid}/ns/net`, 'nft', 'list', 'ruleset']);
      expect(String(rules.stdout)).toContain('oifname "eth0" meta priority none meta priority set 10:1');
      expect(String(rules.stdout)).not.toContain('meta cgroup');
      await gantry(['rm', '-f', 'prioritised', 'target2']);
    });
  },
);
