/**
 * `run --pid host`, `--ipc host`, `--uts host`: the kernel's namespace ids say the container is in
 * the host's namespaces of those kinds (and in its own mount namespace); inspect says so as docker
 * does. `--uts container:X` (podman's; a pod's members use it) joins X's, with X's name. With the host's pid namespace the container sees the host's processes, yet none of ours
 * that matter is within its reach: its own monitor's environment, memory, fds, root and binary are
 * refused to it, while its own process's are not (so the probes can succeed).
 */
import fs from 'node:fs';
import os from 'node:os';
import { expect, it } from 'vitest';
import { engineForSuite, testName } from '../support/engine.js';
import { inHostNamespaces, namespaceProbe } from '../support/namespaces.js';
import { describeUnless, needsRoot } from '../support/skip.js';

describeUnless(needsRoot(), 'gantry run --pid/--ipc/--uts host', () => {
  const engine = engineForSuite('host-namespaces');

  it("stays in the host's pid, ipc and uts namespaces, and inspect says so", async () => {
    const shm = `/dev/shm/${testName('host-ipc')}`;
    fs.writeFileSync(shm, 'from the host\n');
    try {
      const ran = await engine.gantry([
        'run',
        '--rm',
        '--network',
        'none',
        '--pid',
        'host',
        '--ipc',
        'host',
        '--uts',
        'host',
        'demo',
        'sh',
        '-c',
        `${namespaceProbe(['pid', 'ipc', 'uts', 'mnt'])}; hostname; echo "$HOSTNAME"; ` +
          `test -d /proc/${process.pid} && echo sees-test-process; cat ${shm}`,
      ]);
      expect(ran.exitCode, ran.stderr).toBe(0);
      const lines = ran.stdout.split('\n');
      expect(inHostNamespaces(lines, ['pid', 'ipc', 'uts', 'mnt'])).toEqual({
        pid: true,
        ipc: true,
        uts: true,
        mnt: false,
      });
      const [hostname, variable, seen, shared] = lines.slice(4);
      expect(hostname).toBe(os.hostname());
      expect(variable).toBe(os.hostname());
      expect(seen).toBe('sees-test-process');
      // docker binds the host's /dev/shm for --ipc host.
      expect(shared).toBe('from the host');
    } finally {
      fs.rmSync(shm, { force: true });
    }

    // Without the flags: namespaces of its own.
    const own = await engine.gantry([
      'run',
      '--rm',
      '--network',
      'none',
      'demo',
      'sh',
      '-c',
      namespaceProbe(['pid', 'ipc', 'uts']),
    ]);
    expect(own.exitCode, own.stderr).toBe(0);
    expect(inHostNamespaces(own.stdout.split('\n'), ['pid', 'ipc', 'uts'])).toEqual({
      pid: false,
      ipc: false,
      uts: false,
    });

    const created = await engine.gantry([
      'create',
      '--network',
      'none',
      '--pid',
      'host',
      '--ipc',
      'host',
      '--uts',
      'host',
      'demo',
      'true',
    ]);
    expect(created.exitCode, created.stderr).toBe(0);
    const modes = async (id: string) =>
      JSON.parse(
        (
          await engine.gantry([
            'inspect',
            '--format',
            '{{json .HostConfig.PidMode}} {{json .HostConfig.IpcMode}} {{json .HostConfig.UTSMode}}',
            id,
          ])
        ).stdout
          .trim()
          .replace(/^(\S+) (\S+) (\S+)$/, '[$1,$2,$3]'),
      ) as string[];
    expect(await modes(created.stdout.trim())).toEqual(['host', 'host', 'host']);
    const plain = await engine.gantry(['create', '--network', 'none', 'demo', 'true']);
    expect(await modes(plain.stdout.trim())).toEqual(['', 'private', '']);
  });

  it("--uts container:X joins that container's uts namespace with its name, leaving its name as it was", async () => {
    const owner = await engine.gantry([
      'run',
      '-d',
      '--network',
      'none',
      '--hostname',
      'owner-name',
      'demo',
      'sleep',
      '600',
    ]);
    expect(owner.exitCode, owner.stderr).toBe(0);
    const ownerId = owner.stdout.trim();
    const pidOf = async (id: string) =>
      (await engine.gantry(['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim();
    const joiner = await engine.gantry([
      'run',
      '-d',
      '--network',
      'none',
      '--uts',
      `container:${ownerId.slice(0, 12)}`,
      'demo',
      'sleep',
      '600',
    ]);
    expect(joiner.exitCode, joiner.stderr).toBe(0);
    const joinerId = joiner.stdout.trim();
    const utsOf = async (id: string) => fs.readlinkSync(`/proc/${await pidOf(id)}/ns/uts`);
    expect(await utsOf(joinerId)).toBe(await utsOf(ownerId));
    const named = await engine.gantry([
      'exec',
      joinerId,
      'sh',
      '-c',
      'hostname; cat /etc/hostname; echo $HOSTNAME',
    ]);
    expect(named.stdout, named.stderr).toBe('owner-name\nowner-name\nowner-name\n');
    expect(
      (
        await engine.gantry(['inspect', '-f', '{{.HostConfig.UTSMode}} {{.Config.Hostname}}', joinerId])
      ).stdout.trim(),
    ).toBe(`container:${ownerId} owner-name`);
    // The one it joined has its own name still (the joiner set none in the shared namespace).
    expect((await engine.gantry(['exec', ownerId, 'hostname'])).stdout).toBe('owner-name\n');
    expect((await engine.gantry(['rm', '-f', joinerId, ownerId])).exitCode).toBe(0);
    const conflict = await engine.gantry([
      'create',
      '--uts',
      'container:x',
      '--hostname',
      'box',
      'demo',
      'true',
    ]);
    expect(conflict.exitCode).toBe(125);
    expect(conflict.stderr).toContain('conflicting options: hostname and the UTS mode');
  });

  it('refuses --uts host with --hostname, and a bad --uts, as docker does', async () => {
    const conflict = await engine.gantry(['create', '--uts', 'host', '--hostname', 'box', 'demo', 'true']);
    expect(conflict.exitCode).toBe(125);
    expect(conflict.stderr).toContain('conflicting options: hostname and the UTS mode');
    const bad = await engine.gantry(['create', '--uts', 'private', 'demo', 'true']);
    expect(bad.exitCode).toBe(125);
    expect(bad.stderr).toContain('invalid --uts "private"');
    const userns = await engine.gantry(['create', '--pid', 'host', '--userns', 'auto', 'demo', 'true']);
    expect(userns.exitCode).toBe(125);
    expect(userns.stderr).toContain('--pid host cannot be combined with a user namespace');
  });

  it("--pid host: the host's processes are visible, but the container's monitor is out of its reach", async () => {
    // Each probe asks what ptrace's access rules decide: environ, an fd's target, root and exe ask
    // for read access, mem for attach (the fd directory's listing is the owner's, root here). The container's own shell ($$) is the control: there they succeed.
    const probe = (target: string) =>
      `for f in environ mem; do if (: < /proc/${target}/$f) 2>/dev/null; then echo "$f open"; else echo "$f refused"; fi; done; ` +
      `if readlink /proc/${target}/fd/0 >/dev/null 2>&1; then echo "fd read"; else echo "fd refused"; fi; ` +
      `if ls /proc/${target}/root/ >/dev/null 2>&1; then echo "root listed"; else echo "root refused"; fi; ` +
      `if readlink /proc/${target}/exe >/dev/null 2>&1; then echo "exe read"; else echo "exe refused"; fi`;
    const ran = await engine.gantry([
      'run',
      '--rm',
      '--network',
      'none',
      '--pid',
      'host',
      'demo',
      'sh',
      '-c',
      // The shell's parent is the container's monitor (gantry-init), a process of the host's.
      `m=$PPID; echo "monitor $m"; tr '\\0' ' ' < /proc/$m/cmdline; echo; ${probe('$m')}; ` +
        `echo test; ${probe(String(process.pid))}; echo control; ${probe('$$')}`,
    ]);
    expect(ran.exitCode, ran.stderr).toBe(0);
    const lines = ran.stdout.split('\n');
    const monitor = Number(/^monitor (\d+)$/.exec(lines[0]!)![1]);
    // It is our helper, seen by its host PID: the kernel says that process runs gantry-init.
    expect(lines[1]).toMatch(/^gantry-init /);
    expect(monitor).toBeGreaterThan(1);
    expect(lines.slice(2, 7)).toEqual([
      'environ refused',
      'mem refused',
      'fd refused',
      'root refused',
      'exe refused',
    ]);
    // This test's own process (a host process with secrets in its environment) is refused alike.
    expect(lines[7]).toBe('test');
    expect(lines.slice(8, 13)).toEqual([
      'environ refused',
      'mem refused',
      'fd refused',
      'root refused',
      'exe refused',
    ]);
    expect(lines[13]).toBe('control');
    expect(lines.slice(14, 19)).toEqual(['environ open', 'mem open', 'fd read', 'root listed', 'exe read']);
  });
});
