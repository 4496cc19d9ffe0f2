/**
 * gantry-oci runs a bundle with a user namespace and uid/gid mappings, as podman and containerd
 * hand one to runc: the container's root is an unprivileged uid of the host, its /dev nodes are
 * the host's bound in (a user namespace may not mknod), /sys and the cgroup mounts work, and its
 * capabilities reach no further than its own namespaces. Namespaces given by path go with it in
 * runc's order: a user namespace joined by path owns the new namespaces made beside it (a pod's
 * containers join the infra container's), and a new user namespace still joins a namespace the
 * host made.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { cgroupDirectories, testName, waitFor } from '../../support/engine.js';
import { editSpec, makeOciBundle, ociRunner, ociSuiteNeeds, tearDownOci } from '../../support/oci-bundle.js';
import { describeUnless, needsCommand } from '../../support/skip.js';
import { HOST_GID, HOST_UID, mapBundle, openDirectory } from '../../support/userns.js';

describeUnless(
  [...ociSuiteNeeds(), needsCommand('unshare', 'util-linux')],
  'gantry-oci with a user namespace',
  () => {
    let base: string;
    let bundle: string;
    let stateRoot: string;
    let shared: string;
    let original: string;
    const cgroupParent = testName(`oci-userns-${process.pid}`);
    const oci = ociRunner(() => ({ base, bundle, stateRoot }), { GANTRY_CGROUP_PARENT: cgroupParent });
    const holders: ChildProcess[] = [];

    /** The host pid of a created container's process. */
    const pidOf = async (id: string): Promise<number> => {
      const state = await oci('state', id);
      expect(state.exitCode, state.stderr).toBe(0);
      return (JSON.parse(state.stdout) as { pid: number }).pid;
    };

    beforeAll(async () => {
      ({ base, bundle, stateRoot } = await makeOciBundle('oci-userns', ['id', 'stat', 'mknod', 'readlink']));
      // As under runc, the container's root must be able to reach its rootfs through the path.
      fs.chmodSync(base, 0o711);
      shared = openDirectory(base, 'shared');
      await mapBundle(bundle);
      editSpec(bundle, (spec) => {
        spec.process.terminal = false;
        spec.mounts.push({ destination: '/shared', type: 'bind', source: shared, options: ['rbind', 'rw'] });
      });
      original = fs.readFileSync(path.join(bundle, 'config.json'), 'utf8');
    });

    afterEach(() => {
      fs.writeFileSync(path.join(bundle, 'config.json'), original);
      for (const holder of holders.splice(0)) holder.kill('SIGKILL');
    });

    afterAll(async () => {
      expect(await tearDownOci(oci, { base, bundle, stateRoot }, cgroupParent)).toEqual([]);
    });

    it('runs as root inside and as the mapped uid outside, with the host’s device nodes bound in', async () => {
      editSpec(bundle, (spec) => {
        spec.process.args = [
          'sh',
          '-c',
          [
            'echo id=$(id -u):$(id -g)',
            'cat /proc/self/uid_map /proc/self/gid_map',
            'echo discarded > /dev/null && echo null-ok',
            'stat -c "dev %n %t:%T" /dev/null /dev/zero /dev/tty',
            'mknod /dev/made c 1 3 2>/dev/null || echo mknod-refused',
            'ls /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/class/net/lo >/dev/null && echo sys-ok',
            'touch /shared/written',
          ].join('; '),
        ];
      });
      const result = await oci('run', '--bundle', bundle, 'ids');
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout).toContain('id=0:0\n');
      expect(result.stdout).toMatch(new RegExp(`^\\s*0\\s+${HOST_UID}\\s+65536$`, 'm'));
      expect(result.stdout).toMatch(new RegExp(`^\\s*0\\s+${HOST_GID}\\s+65536$`, 'm'));
      expect(result.stdout).toContain('null-ok');
      expect(result.stdout).toContain('dev /dev/null 1:3');
      expect(result.stdout).toContain('dev /dev/zero 1:5');
      expect(result.stdout).toContain('dev /dev/tty 5:0');
      expect(result.stdout).toContain('mknod-refused');
      expect(result.stdout).toContain('sys-ok');
      const written = fs.statSync(path.join(shared, 'written'));
      expect([written.uid, written.gid]).toEqual([HOST_UID, HOST_GID]);
    });

    it('the host sees the mapped uid for the container’s process, and deletes it cleanly', async () => {
      editSpec(bundle, (spec) => {
        spec.process.args = ['sleep', '60'];
      });
      expect((await oci('create', '--bundle', bundle, 'running')).exitCode).toBe(0);
      const pid = await pidOf('running');
      expect((await oci('start', 'running')).exitCode).toBe(0);
      await waitFor(
        () => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep'),
        60_000,
        'exec of sleep',
      );
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      expect(status).toMatch(
        new RegExp(`^Uid:\\s+${HOST_UID}\\s+${HOST_UID}\\s+${HOST_UID}\\s+${HOST_UID}$`, 'm'),
      );
      expect(status).toMatch(
        new RegExp(`^Gid:\\s+${HOST_GID}\\s+${HOST_GID}\\s+${HOST_GID}\\s+${HOST_GID}$`, 'm'),
      );
      // Its user namespace is not the host's.
      expect(fs.readlinkSync(`/proc/${pid}/ns/user`)).not.toBe(fs.readlinkSync('/proc/self/ns/user'));
      expect((await oci('delete', '--force', 'running')).exitCode).toBe(0);
      expect(cgroupDirectories(path.join(cgroupParent, 'running'))).toEqual([]);
    });

    it('joins a user namespace by path and makes its new namespaces inside it (hostname, sysfs, mounts)', async () => {
      // The "infra" container: the user namespace the other joins, as a pod's containers do.
      editSpec(bundle, (spec) => {
        spec.process.args = ['sleep', '600'];
      });
      expect((await oci('create', '--bundle', bundle, 'infra')).exitCode).toBe(0);
      const infra = await pidOf('infra');
      const infraUserns = fs.readlinkSync(`/proc/${infra}/ns/user`);
      editSpec(bundle, (spec) => {
        spec.linux.namespaces = spec.linux.namespaces.map((ns: { type: string }) =>
          ns.type === 'user' ? { type: 'user', path: `/proc/${infra}/ns/user` } : ns,
        );
        // The joined namespace has its mapping; the bundle gives none.
        delete spec.linux.uidMappings;
        delete spec.linux.gidMappings;
        spec.hostname = 'in-joined-userns';
        spec.process.args = [
          'sh',
          '-c',
          [
            'echo id=$(id -u)',
            'echo host=$(hostname)',
            'echo userns=$(readlink /proc/self/ns/user)',
            // sysfs mounted anew shows the container's own network namespace: only lo.
            'echo net=$(ls /sys/class/net)',
            'touch /shared/joined',
          ].join('; '),
        ];
      });
      // Before the fix the new namespaces belonged to the host's user namespace: the container's
      // root could mount nothing in its mount namespace (EPERM), nor set the hostname.
      const result = await oci('run', '--bundle', bundle, 'joiner');
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toContain('id=0\n');
      expect(result.stdout).toContain('host=in-joined-userns\n');
      expect(result.stdout).toContain(`userns=${infraUserns}\n`);
      expect(result.stdout).toContain('net=lo\n');
      const written = fs.statSync(path.join(shared, 'joined'));
      expect([written.uid, written.gid]).toEqual([HOST_UID, HOST_GID]);
      expect((await oci('delete', '--force', 'infra')).exitCode).toBe(0);
    });

    it('a new user namespace still joins a network namespace the host made', async () => {
      const holder = spawn('unshare', ['--net', 'sleep', '600'], { stdio: 'ignore' });
      holders.push(holder);
      const hostNet = fs.readlinkSync('/proc/self/ns/net');
      const holderNet = await waitFor(
        () => {
          try {
            const net = fs.readlinkSync(`/proc/${holder.pid}/ns/net`);
            return net !== hostNet ? net : undefined;
          } catch {
            return undefined;
          }
        },
        60_000,
        'the network namespace holder',
      );
      editSpec(bundle, (spec) => {
        spec.linux.namespaces = spec.linux.namespaces.map((ns: { type: string }) =>
          ns.type === 'network' ? { type: 'network', path: `/proc/${holder.pid}/ns/net` } : ns,
        );
        spec.process.args = ['sh', '-c', 'echo id=$(id -u); echo net=$(readlink /proc/self/ns/net)'];
      });
      // Before the fix the process joined it from inside its new user namespace, as an unprivileged
      // uid of the host: it could not even open the holder's /proc/PID/ns/net.
      const result = await oci('run', '--bundle', bundle, 'host-net');
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toBe(`id=0\nnet=${holderNet}\n`);
    });
  },
);
