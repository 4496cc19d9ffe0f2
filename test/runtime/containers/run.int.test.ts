/** The runtime core on the real kernel: namespaces, root filesystem, exit codes, process. */
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { engineForSuite, REPO, waitFor } from '../../support/engine.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

describeUnless(needsRoot(), 'gantry run', () => {
  const engine = engineForSuite('run');

  it('runs the command as PID 1 and sees only its own processes', async () => {
    const result = await engine.gantry([
      'run',
      '--rm',
      'demo',
      'sh',
      '-c',
      'echo $$; ps -o pid,comm | tail -n +2',
    ]);
    expect(result.exitCode).toBe(0);
    const [pid, ...processes] = result.stdout.trim().split('\n');
    expect(pid).toBe('1');
    const pids = processes.map((line) => Number(line.trim().split(/\s+/)[0]));
    expect(pids).toContain(1);
    expect(Math.max(...pids)).toBeLessThan(10);
  });

  it('sets the hostname: the short id by default, --hostname when given', async () => {
    const named = await engine.gantry(['run', '--rm', '--hostname', 'box1', 'demo', 'hostname']);
    expect(named.stdout.trim()).toBe('box1');
    const created = await engine.gantry(['create', 'demo', 'hostname']);
    const id = created.stdout.trim();
    const started = await engine.gantry(['start', '-a', id]);
    expect(started.stdout.trim()).toBe(id.slice(0, 12));
    await engine.gantry(['rm', id]);
  });

  it('has its own network stack with only lo, up, with --network none; --net host shares the host stack', async () => {
    const own = await engine.gantry(['run', '--rm', '--network', 'none', 'demo', 'cat', '/proc/net/dev']);
    const interfaces = own.stdout
      .split('\n')
      .slice(2)
      .filter(Boolean)
      .map((line) => line.split(':')[0]!.trim());
    expect(interfaces).toEqual(['lo']);
    const flags = await engine.gantry([
      'run',
      '--rm',
      '--network',
      'none',
      'demo',
      'cat',
      '/sys/class/net/lo/operstate',
    ]);
    expect(['unknown', 'up']).toContain(flags.stdout.trim());
    // gantry runs in the test's network namespace: that is the "host" stack it shares. An extra
    // interface only there tells the two apart from the real host's.
    await engine.inNetns('ip', ['link', 'add', 'hostside0', 'type', 'bridge']);
    const host = await engine.gantry(['run', '--rm', '--net', 'host', 'demo', 'cat', '/proc/net/dev']);
    const names = host.stdout
      .split('\n')
      .slice(2)
      .filter(Boolean)
      .map((line) => line.split(':')[0]!.trim());
    expect(names.sort()).toEqual(['hostside0', 'lo']);
  });

  it('returns the exit code of the command, 126 when it cannot run and 127 when it is missing', async () => {
    expect((await engine.gantry(['run', '--rm', 'demo', 'true'])).exitCode).toBe(0);
    expect((await engine.gantry(['run', '--rm', 'demo', 'sh', '-c', 'exit 7'])).exitCode).toBe(7);
    const missing = await engine.gantry(['run', '--rm', 'demo', 'no-such-command']);
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toContain('executable file not found in $PATH');
    const notExecutable = await engine.gantry(['run', '--rm', 'demo', '/etc/passwd']);
    expect(notExecutable.exitCode).toBe(126);
    expect(notExecutable.stderr).toContain('exec: "/etc/passwd": permission denied');
    // Found before start, as runc does, so a detached run fails too and --rm leaves nothing.
    const detached = await engine.gantry(['run', '-d', '--rm', 'demo', '/etc/passwd']);
    expect(detached.exitCode).toBe(126);
    expect(detached.stderr).toContain('permission denied');
    const directory = await engine.gantry(['run', '--rm', 'demo', '/tmp']);
    expect(directory.exitCode).toBe(126);
    expect(directory.stderr).toContain('exec: "/tmp": is a directory');
    const killed = await engine.gantry([
      'run',
      '--rm',
      'demo',
      'sh',
      '-c',
      'sh -c "kill -9 \\$\\$"; exit $?',
    ]);
    expect(killed.exitCode).toBe(137);
  });

  it('keeps a failed start as created with the exit code, like docker', async () => {
    const result = await engine.gantry(['run', '--name', 'missing-cmd', 'demo', 'nope']);
    expect(result.exitCode).toBe(127);
    const state = JSON.parse((await engine.gantry(['inspect', 'missing-cmd'])).stdout)[0].State;
    expect(state.Status).toBe('created');
    expect(state.ExitCode).toBe(127);
    expect(state.Error).toContain('nope');
    await engine.gantry(['rm', 'missing-cmd']);
  });

  it('stacks the image read-only under a writable layer: writes reach neither the image nor the next container', async () => {
    const first = await engine.gantry([
      'run',
      '--name',
      'writer',
      'demo',
      'sh',
      '-c',
      'echo changed > /etc/motd-test && rm /bin/ls && echo ok',
    ]);
    expect(first.stdout.trim()).toBe('ok');
    const inspect = JSON.parse((await engine.gantry(['inspect', 'writer'])).stdout)[0];
    const upper = inspect.GraphDriver.Data.UpperDir as string;
    expect(fs.readFileSync(path.join(upper, 'etc', 'motd-test'), 'utf8')).toBe('changed\n');
    const whiteout = fs.lstatSync(path.join(upper, 'bin', 'ls'));
    expect(whiteout.isCharacterDevice() && whiteout.rdev === 0).toBe(true);
    for (const lower of (inspect.GraphDriver.Data.LowerDir as string).split(':')) {
      expect(fs.existsSync(path.join(lower, 'etc', 'motd-test'))).toBe(false);
    }
    const second = await engine.gantry([
      'run',
      '--rm',
      'demo',
      'sh',
      '-c',
      'cat /etc/motd-test 2>/dev/null; test -e /bin/ls && echo ls-present',
    ]);
    expect(second.stdout.trim()).toBe('ls-present');
    const root = await engine.gantry(['run', '--rm', 'demo', 'sh', '-c', 'grep " / " /proc/self/mountinfo']);
    expect(root.stdout).toContain(' - overlay overlay ');
    await engine.gantry(['rm', 'writer']);
    // While a container runs, MergedDir shows its merged root from the host, as docker's does.
    await engine.gantry([
      'run',
      '-d',
      '--name',
      'merged',
      'demo',
      'sh',
      '-c',
      'echo live > /merged-file; sleep 100',
    ]);
    const running = JSON.parse((await engine.gantry(['inspect', 'merged'])).stdout)[0];
    const merged = running.GraphDriver.Data.MergedDir as string;
    await waitFor(
      () => fs.existsSync(path.join(merged, 'merged-file')) || undefined,
      60_000,
      'the file in MergedDir',
    );
    expect(fs.readFileSync(path.join(merged, 'merged-file'), 'utf8')).toBe('live\n');
    expect(fs.existsSync(path.join(merged, 'bin', 'sh'))).toBe(true);
    await engine.gantry(['rm', '-f', 'merged']);
  });

  it('runs in a pivoted root with no trace of the host filesystem', async () => {
    const result = await engine.gantry(['run', '--rm', 'demo', 'sh', '-c', 'cat /proc/self/mountinfo']);
    const targets = result.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(' ')[4]!);
    expect(targets[0]).toBe('/');
    expect(targets.filter((target) => target === '/')).toHaveLength(1);
    expect(targets.some((target) => target.includes(engine.root))).toBe(false);
    const ls = await engine.gantry(['run', '--rm', 'demo', 'ls', '/']);
    expect(ls.stdout).not.toContain('work');
  });

  it('pivots the root: the old root is gone from its mount namespace, whose root is the overlay', async () => {
    // A chroot would pass the test above (mountinfo hides what lies outside a process's root),
    // so look at the whole namespace: a process that joins it (setns resets its root to the
    // namespace's root) sees every mount there. After pivot_root and the old root's unmount,
    // that is exactly what the container sees, with the overlay at /.
    const id = (await engine.gantry(['run', '-d', 'demo', 'sleep', '300'])).stdout.trim();
    const pid = Number((await engine.gantry(['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim());
    const joined = execa('nsenter', ['-t', String(pid), '-m', '--', '/bin/sleep', '300'], { reject: false });
    try {
      const joinedPid = joined.pid as number;
      await waitFor(
        () =>
          fs.readlinkSync(`/proc/${joinedPid}/ns/mnt`) === fs.readlinkSync(`/proc/${pid}/ns/mnt`) &&
          fs.readFileSync(`/proc/${joinedPid}/comm`, 'utf8').trim() === 'sleep',
        60_000,
        'nsenter to join the mount namespace',
      );
      const mounts = (file: string) =>
        fs
          .readFileSync(file, 'utf8')
          .trim()
          .split('\n')
          .map((line) => {
            const fields = line.split(' ');
            const separator = fields.indexOf('-');
            return { root: fields[3], target: fields[4], type: fields[separator + 1] };
          });
      const namespace = mounts(`/proc/${joinedPid}/mountinfo`);
      expect(namespace).toEqual(mounts(`/proc/${pid}/mountinfo`));
      expect(namespace.filter((mount) => mount.target === '/')).toEqual([
        { root: '/', target: '/', type: 'overlay' },
      ]);
    } finally {
      joined.kill('SIGKILL');
      await joined;
      await engine.gantry(['rm', '-f', id]);
    }
  });

  it('has its own mount, uts, ipc, net, pid and cgroup namespaces, and sees its cgroup as /', async () => {
    const id = (await engine.gantry(['run', '-d', 'demo', 'sleep', '300'])).stdout.trim();
    try {
      const pid = Number((await engine.gantry(['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim());
      for (const namespace of ['mnt', 'uts', 'ipc', 'net', 'pid', 'cgroup']) {
        expect(fs.readlinkSync(`/proc/${pid}/ns/${namespace}`), namespace).not.toBe(
          fs.readlinkSync(`/proc/self/ns/${namespace}`),
        );
      }
      // The host sees the container's cgroup by its path; inside, its cgroup namespace makes it /.
      expect(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`/${engine.cgroupParent}/${id}`);
      const inside = await engine.gantry(['exec', id, 'cat', '/proc/self/cgroup']);
      expect(inside.exitCode, inside.stderr).toBe(0);
      const paths = inside.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(':').slice(2).join(':'));
      expect(paths.length).toBeGreaterThan(0);
      expect(paths.filter((cgroupPath) => cgroupPath !== '/')).toEqual([]);
      // System V IPC: a segment the host makes is not in the container's ipc namespace.
      const made = await execa('ipcmk', ['-M', '4096']);
      const shmid = /(\d+)/.exec(made.stdout)?.[1] as string;
      try {
        const hostSegments = fs.readFileSync('/proc/sysvipc/shm', 'utf8');
        expect(hostSegments).toMatch(new RegExp(`^\\s*-?\\d+\\s+${shmid}\\s`, 'm'));
        const seen = await engine.gantry(['exec', id, 'cat', '/proc/sysvipc/shm']);
        expect(seen.exitCode, seen.stderr).toBe(0);
        expect(seen.stdout).not.toMatch(new RegExp(`^\\s*-?\\d+\\s+${shmid}\\s`, 'm'));
      } finally {
        await execa('ipcrm', ['-m', shmid]);
      }
    } finally {
      await engine.gantry(['rm', '-f', id]);
    }
  });

  it('gives /dev the standard nodes and links, /sys and /sys/fs/cgroup read-only', async () => {
    const script = [
      'for n in null zero full random urandom tty ptmx; do test -e /dev/$n && echo $n; done',
      'for l in fd stdin stdout stderr; do test -L /dev/$l && echo link-$l; done',
      'test -d /dev/pts && echo pts; test -d /dev/shm && echo shm',
      'touch /sys/x 2>/dev/null || echo sys-ro',
      'mkdir /sys/fs/cgroup/x 2>/dev/null || echo cgroup-ro',
      'head -c 4 /dev/zero | wc -c',
    ].join('; ');
    const result = await engine.gantry(['run', '--rm', 'demo', 'sh', '-c', script]);
    const lines = result.stdout.trim().split('\n');
    for (const expected of [
      'null',
      'zero',
      'full',
      'random',
      'urandom',
      'tty',
      'ptmx',
      'link-fd',
      'link-stdin',
      'link-stdout',
      'link-stderr',
      'pts',
      'shm',
      'sys-ro',
      'cgroup-ro',
      '4',
    ]) {
      expect(lines).toContain(expected);
    }
  });

  it('masks and write-protects the paths runc protects', async () => {
    // Only paths this kernel has: masking a missing file is (rightly) a no-op.
    const masked = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug'].filter((p) =>
      fs.existsSync(p),
    );
    expect(masked.length).toBeGreaterThan(0);
    expect(fs.readFileSync('/proc/keys', 'utf8').length).toBeGreaterThan(0);
    const script = [
      ...masked.map((p) => `echo "${p} $(cat ${p} | wc -c)"`),
      'echo "/sys/firmware $(ls /sys/firmware | wc -l)"',
      'echo 1 > /proc/sysrq-trigger 2>/dev/null || echo sysrq-ro',
      'echo 1 > /proc/sys/kernel/domainname 2>/dev/null || echo procsys-ro',
      'grep -q " /proc/sys ro," /proc/self/mountinfo && echo procsys-mounted-ro',
    ].join('; ');
    const result = await engine.gantry(['run', '--rm', 'demo', 'sh', '-c', script]);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim());
    expect(lines).toEqual([
      ...masked.map((p) => `${p} 0`),
      '/sys/firmware 0',
      'sysrq-ro',
      'procsys-ro',
      'procsys-mounted-ro',
    ]);
  });

  it('manages /etc/hostname, /etc/hosts and /etc/resolv.conf', async () => {
    const result = await engine.gantry([
      'run',
      '--rm',
      '--hostname',
      'h1',
      'demo',
      'sh',
      '-c',
      'cat /etc/hostname; grep -c localhost /etc/hosts; grep h1 /etc/hosts; test -f /etc/resolv.conf && echo resolv',
    ]);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe('h1');
    expect(Number(lines[1])).toBeGreaterThan(0);
    expect(lines[2]).toContain('h1');
    expect(lines[3]).toBe('resolv');
  });

  it('passes env (-e and image ENV), working dir (-w) and user (-u uid:gid and names)', async () => {
    const env = await engine.gantry([
      'run',
      '--rm',
      '-e',
      'FOO=bar baz',
      '-e',
      'PATH=/bin',
      'demo',
      'sh',
      '-c',
      'echo "$FOO|$PATH|$HOSTNAME|$HOME"',
    ]);
    expect(env.stdout.trim()).toMatch(/^bar baz\|\/bin\|[0-9a-f]{12}\|\/root$/);
    const workdir = await engine.gantry(['run', '--rm', '-w', '/made/by/docker', 'demo', 'pwd']);
    expect(workdir.stdout.trim()).toBe('/made/by/docker');
    const numeric = await engine.gantry(['run', '--rm', '-u', '1234:5678', 'demo', 'id']);
    expect(numeric.stdout.trim()).toMatch(/^uid=1234 gid=5678/);
    const named = await engine.gantry(['run', '--rm', '-u', 'nobody', 'demo', 'id', '-u']);
    expect(named.stdout.trim()).toBe('65534');
    const unknown = await engine.gantry(['run', '--rm', '-u', 'no-such-user', 'demo', 'id']);
    expect(unknown.exitCode).not.toBe(0);
    expect(unknown.stderr).toContain('unable to find user no-such-user');
  });

  it("holds docker's default capabilities, nothing else, and no_new_privs", async () => {
    const result = await engine.gantry([
      'run',
      '--rm',
      'demo',
      'grep',
      '-E',
      '^(CapEff|CapBnd|CapPrm|CapInh|NoNewPrivs)',
      '/proc/self/status',
    ]);
    const fields = Object.fromEntries(
      result.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(/:\s+/) as [string, string]),
    );
    // CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
    expect(fields.CapEff).toBe('00000000a80425fb');
    expect(fields.CapBnd).toBe('00000000a80425fb');
    expect(fields.CapInh).toBe('0000000000000000');
    expect(fields.NoNewPrivs).toBe('1');
    const added = await engine.gantry([
      'run',
      '--rm',
      '--cap-add',
      'NET_ADMIN',
      '--cap-drop',
      'MKNOD',
      'demo',
      'grep',
      'CapEff',
      '/proc/self/status',
    ]);
    expect(added.stdout).toContain((0xa80425fb + (1 << 12) - (1 << 27)).toString(16).padStart(16, '0'));
    const nonRoot = await engine.gantry([
      'run',
      '--rm',
      '-u',
      '1000',
      'demo',
      'grep',
      'CapEff',
      '/proc/self/status',
    ]);
    expect(nonRoot.stdout).toContain('0000000000000000');
  });

  it('filters syscalls with seccomp: the default profile, a profile of ours, or unconfined', async () => {
    const status = await engine.gantry(['run', '--rm', 'demo', 'grep', '^Seccomp:', '/proc/self/status']);
    expect(status.stdout).toMatch(/Seccomp:\s+2/);
    // Creating a user namespace is a clone flag the default profile refuses without CAP_SYS_ADMIN.
    const unshare = await engine.gantry([
      'run',
      '--rm',
      'demo',
      'sh',
      '-c',
      'unshare -U true 2>&1; echo rc=$?',
    ]);
    expect(unshare.stdout).toMatch(/rc=[1-9]/);
    const unconfined = await engine.gantry([
      'run',
      '--rm',
      '--security-opt',
      'seccomp=unconfined',
      'demo',
      'grep',
      '^Seccomp:',
      '/proc/self/status',
    ]);
    expect(unconfined.stdout).toMatch(/Seccomp:\s+0/);
    const profile = path.join(engine.root, 'no-mkdir.json');
    fs.writeFileSync(
      profile,
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
      }),
    );
    const custom = await engine.gantry([
      'run',
      '--rm',
      '--security-opt',
      `seccomp=${profile}`,
      'demo',
      'sh',
      '-c',
      'mkdir /tmp/x || echo refused',
    ]);
    expect(custom.stdout).toContain('refused');
    const bad = await engine.gantry([
      'run',
      '--rm',
      '--security-opt',
      'seccomp=/no/such.json',
      'demo',
      'true',
    ]);
    expect(bad.exitCode).toBe(125);
    expect(bad.stderr).toContain('--security-opt seccomp=/no/such.json');
    // label=disable is docker's and accepted now (SELinux labels, selinux-labels.ts): an option
    // no engine knows is what must be refused.
    const disabled = await engine.gantry(['run', '--rm', '--security-opt', 'label=disable', 'demo', 'true']);
    expect(disabled.stderr).toBe('');
    expect(disabled.exitCode).toBe(0);
    const unknown = await engine.gantry([
      'run',
      '--rm',
      '--security-opt',
      'no-such-option=1',
      'demo',
      'true',
    ]);
    expect(unknown.exitCode).toBe(125);
    expect(unknown.stderr).toContain('unsupported --security-opt "no-such-option=1"');
    expect(unknown.stderr).toContain('accepted: seccomp=unconfined');
  });

  it('applies --ulimit and --read-only', async () => {
    const limits = await engine.gantry([
      'run',
      '--rm',
      '--ulimit',
      'nofile=100:200',
      // The same name again: the last one counts, as with docker.
      '--ulimit',
      'nofile=512:1024',
      'demo',
      'sh',
      '-c',
      'ulimit -n; ulimit -Hn',
    ]);
    expect(limits.stdout.trim().split('\n')).toEqual(['512', '1024']);
    const readonly = await engine.gantry([
      'run',
      '--rm',
      '--read-only',
      'demo',
      'sh',
      '-c',
      'touch /x 2>/dev/null || echo ro; touch /dev/shm/x && echo shm-rw',
    ]);
    expect(readonly.stdout.trim().split('\n')).toEqual(['ro', 'shm-rw']);
  });

  it('bind mounts host paths with -v, read-only with :ro', async () => {
    const dir = fs.mkdtempSync(path.join(engine.root, 'vol-'));
    fs.writeFileSync(path.join(dir, 'in.txt'), 'from host\n');
    const result = await engine.gantry([
      'run',
      '--rm',
      '-v',
      `${dir}:/data`,
      '-v',
      `${dir}:/ro:ro`,
      'demo',
      'sh',
      '-c',
      'cat /data/in.txt; echo back > /data/out.txt; echo x > /ro/y 2>/dev/null || echo ro-refused',
    ]);
    expect(result.stdout.trim().split('\n')).toEqual(['from host', 'ro-refused']);
    expect(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8')).toBe('back\n');
  });

  it('gives a real pty with -t, with the size of the terminal', async () => {
    const result = await engine.gantry([
      'run',
      '--rm',
      '-t',
      'demo',
      'sh',
      '-c',
      'tty; test -t 0 && echo stdin-tty',
    ]);
    expect(result.stdout).toMatch(/\/dev\/pts\/\d+/);
    expect(result.stdout).toContain('stdin-tty');
  });

  it("sizes the pty from the caller's terminal, for run -t and exec -t", async () => {
    // `script` gives gantry a real terminal of a known size.
    const run = await execa(
      'script',
      ['-qc', 'stty cols 123 rows 45; node bin/gantry.js run --rm -t demo stty size', '/dev/null'],
      {
        cwd: REPO,
        env: engine.env,
        reject: false,
        stdin: 'ignore',
      },
    );
    expect(run.stdout.trim()).toBe('45 123');
    // Outlasts five execs, each a node start or two, on a loaded machine.
    const id = (await engine.gantry(['run', '-d', 'demo', 'sleep', '600'])).stdout.trim();
    // Several times: the size must be on the pty before the process runs, not set a moment later.
    const sizes: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const exec = await execa(
        'script',
        ['-qc', `stty cols 77 rows 22; node bin/gantry.js exec -t ${id} stty size`, '/dev/null'],
        {
          cwd: REPO,
          env: engine.env,
          reject: false,
          stdin: 'ignore',
        },
      );
      sizes.push(exec.stdout.trim());
    }
    expect(sizes).toEqual(Array(5).fill('22 77'));
    await engine.gantry(['rm', '-f', id]);
  });

  it('feeds stdin with -i', async () => {
    const result = await engine.gantry(['run', '--rm', '-i', 'demo', 'sh', '-c', 'tr a-z A-Z'], {
      input: 'hello stdin\n',
    });
    expect(result.stdout.trim()).toBe('HELLO STDIN');
  });
});
