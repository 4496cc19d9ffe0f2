/**
 * CRI-O is no Debian package, so this file replays what CRI-O (cri-o/cri-o, main) makes its OCI
 * runtime do, with gantry-oci as the runtime: each call with CRI-O's argv and environment, through
 * Debian's conmon where CRI-O goes through conmon (with CRI-O's conmon arguments, sync and start
 * pipes on fds 3 and 4) and directly where CRI-O runs the runtime itself. Each test asserts what
 * CRI-O then reads: conmon's sync-pipe JSON, the pid file, the exit files conmon writes, the `state`
 * JSON, exec's exit status, the cgroup after `update`, and the stderr words CRI-O maps to "not
 * found". The comment above each call names the CRI-O file and function it replays.
 */
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  cgroupDirectories,
  createTestNetns,
  deleteTestNetns,
  GANTRY_OCI,
  testName,
  waitFor,
} from '../../support/engine.js';
import { editSpec, makeOciBundle, ociSuiteNeeds } from '../../support/oci-bundle.js';
import { describeUnless, needsCommand } from '../../support/skip.js';

/** The container state CRI-O decodes `state` into (internal/oci/container.go, ContainerState). */
interface CrioState {
  ociVersion: string;
  id: string;
  status: string;
  pid: number;
  bundle: string;
  annotations?: Record<string, string>;
  created?: string;
}

/** What conmon writes on the sync pipe CRI-O reads (runtime_oci.go: syncInfo, exitCodeInfo). */
interface SyncMessage {
  pid?: number;
  exit_code?: number;
  message?: string;
}

/** CRI-O's default monitor_env (pkg/config/template.go, conmon_env). */
const MONITOR_ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];

/**
 * runtime_oci.go, prepareEnv: monitor_env, CRI_O_EXTERNAL=1, CRI-O's PATH and XDG_RUNTIME_DIR,
 * and for conmon the numbers of the sync and start pipes. Nothing else of CRI-O's environment.
 */
function crioEnv(syncPipes: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of [
    ...MONITOR_ENV,
    'CRI_O_EXTERNAL=1',
    `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`,
    ...(syncPipes ? ['_OCI_SYNCPIPE=3', '_OCI_STARTPIPE=4'] : []),
  ]) {
    const at = entry.indexOf('=');
    env[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return env;
}

/**
 * CRI-O's AttachContainer in C (Node has no SOCK_SEQPACKET): connect to conmon's attach socket
 * (DIR/attach: relative, as the path passes sun_path's limit), write the input, CloseWrite.
 */
const ATTACH_C = `#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc != 3 || chdir(argv[1])) { perror("chdir"); return 2; }
  int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX, .sun_path = "attach"};
  if (connect(s, (struct sockaddr *)&a, sizeof a)) { perror("connect"); return 3; }
  if (write(s, argv[2], strlen(argv[2])) < 0) return 4;
  shutdown(s, SHUT_WR);
  char b[4096];
  while (read(s, b, sizeof b) > 0) {}
  return 0;
}
`;

/** CRI-O's container ids are 64 hex digits. */
const newId = () => randomBytes(32).toString('hex');

/** The variables CRI-O or conmon hand the runtime, none of which may reach a container's process. */
const CALLER_ONLY = /^(CRI_O_EXTERNAL|_OCI_SYNCPIPE|_OCI_STARTPIPE|XDG_RUNTIME_DIR)=/m;

describeUnless(
  [...ociSuiteNeeds(), needsCommand('conmon'), needsCommand('script', 'bsdutils')],
  'CRI-O’s calls, replayed against gantry-oci',
  () => {
    const cgroupParent = testName(`crio-${process.pid}`);
    let base = '';
    let bundle = '';
    let stateRoot = '';
    let dirs: { persist: string; exits: string; logs: string; attach: string };
    /** The pod's network namespace, pinned as CRI-O's pinns pins it (a file in /run/netns). */
    let podNetns = '';

    /** A bundle per container, as CRI-O's RunDir: config.json over the shared rootfs. */
    function containerBundle(id: string, edit: Parameters<typeof editSpec>[1]): string {
      const dir = path.join(base, 'run', id);
      fs.mkdirSync(dir, { recursive: true });
      fs.copyFileSync(path.join(bundle, 'config.json'), path.join(dir, 'config.json'));
      editSpec(dir, (spec) => {
        // CRI-O's root is the absolute path of the container's storage mount.
        spec.root = { path: path.join(bundle, 'rootfs'), readonly: false };
        spec.process.terminal = false;
        spec.process.env = ['PATH=/bin', 'TERM=xterm', `HOSTNAME=${id.slice(0, 12)}`];
        // server/container_create_linux.go: cgroupfs puts the container at PARENT/crio-ID.
        spec.linux.cgroupsPath = `/${cgroupParent}/crio-${id}`;
        spec.annotations = {
          'io.kubernetes.cri-o.ContainerType': 'container',
          'io.kubernetes.container.name': 'ctr',
        };
        edit(spec);
      });
      return dir;
    }

    /** The file of a v1 controller in the container's cgroup. */
    const cgroupFile = (id: string, controller: string, file: string) =>
      path.join(
        cgroupDirectories(cgroupParent).find((dir) => dir.includes(`/${controller}/`))!,
        `crio-${id}`,
        file,
      );

    /** runtime_oci.go, runtimeCmd: RUNTIME --root ROOT ARGS with prepareEnv(cmd, false). */
    async function runtimeCmd(args: string[], options: { input?: string; systemd?: boolean } = {}) {
      const result = await execa(
        GANTRY_OCI,
        // defaultRuntimeArgs: --root, then --systemd-cgroup when cgroup_manager is systemd.
        ['--root', stateRoot, ...(options.systemd ? ['--systemd-cgroup'] : []), ...args],
        {
          env: crioEnv(false),
          extendEnv: false,
          reject: false,
          ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' as const }),
        },
      );
      return {
        stdout: String(result.stdout),
        stderr: String(result.stderr),
        exitCode: result.exitCode ?? 128,
      };
    }

    const state = async (id: string) => {
      const result = await runtimeCmd(['state', id]);
      expect(result.exitCode, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as CrioState;
    };

    /**
     * Runs conmon as CRI-O does (cmd.ExtraFiles = childPipe, childStartPipe: fds 3 and 4), writes
     * the start byte once it runs, waits for the process CRI-O waits for, and returns conmon's first
     * sync message (and, for an exec, its last).
     */
    async function conmon(args: string[], options: { cwd?: string; label: string }) {
      const errFile = path.join(base, `conmon-${options.label}.err`);
      const errFd = fs.openSync(errFile, 'w');
      const child = spawn('conmon', args, {
        cwd: options.cwd ?? base,
        env: crioEnv(true),
        stdio: ['ignore', errFd, errFd, 'pipe', 'pipe'],
      });
      fs.closeSync(errFd);
      const sync = child.stdio[3] as Readable;
      let text = '';
      let closed = false;
      sync.on('data', (chunk: Buffer) => (text += chunk.toString()));
      sync.on('close', () => (closed = true));
      // "We set the cgroup, now the child can start creating children".
      (child.stdio[4] as Writable).end(Buffer.from([0]));
      const exitCode = await new Promise<number>((resolve) =>
        child.on('exit', (code) => resolve(code ?? 128)),
      );
      const lines = () => text.split('\n').filter(Boolean);
      /** The first COUNT messages, or all there are once conmon closed the pipe. */
      const messages = (count: number) =>
        new Promise<SyncMessage[]>((resolve) => {
          const check = () => {
            if (lines().length >= count || closed)
              resolve(lines().map((line) => JSON.parse(line) as SyncMessage));
          };
          sync.on('data', check);
          sync.on('close', check);
          check();
        });
      return { exitCode, messages, stderr: () => fs.readFileSync(errFile, 'utf8') };
    }

    /** runtime_oci.go, CreateContainer: conmon's argv for a container (no tty, no stdin). */
    function createArgs(
      id: string,
      dir: string,
      options: { restore?: string; systemd?: boolean; terminal?: boolean; stdin?: boolean } = {},
    ) {
      return [
        '-b',
        dir,
        '-c',
        id,
        '--exit-dir',
        dirs.exits,
        '-l',
        path.join(dirs.logs, `${id}.log`),
        '--log-level',
        'info',
        '-n',
        `k8s_ctr_pod_default_${id.slice(0, 8)}_0`,
        '-P',
        path.join(dir, 'conmon-pidfile'),
        '-p',
        path.join(dir, 'pidfile'),
        '--persist-dir',
        path.join(dirs.persist, id),
        '-r',
        GANTRY_OCI,
        '--runtime-arg',
        `--root=${stateRoot}`,
        '--socket-dir-path',
        dirs.attach,
        '--syslog',
        '-u',
        id,
        ...(options.systemd ? ['-s'] : []),
        // c.terminal: conmon makes a console socket and passes --console-socket to create.
        ...(options.terminal ? ['-t'] : []),
        // c.stdin with stdinOnce: conmon's pipe is the container's stdin (no --leave-stdin-open).
        ...(options.stdin ? ['-i'] : []),
        ...(options.restore ? ['--restore', options.restore] : []),
      ];
    }

    /**
     * runtime_oci.go, CreateContainer (or RestoreContainer): conmon with CRI-O's arguments in the
     * container's persist directory; conmon runs `gantry-oci --root=ROOT create --bundle DIR
     * --pid-file DIR/pidfile ID`. Returns conmon and its first sync message.
     */
    async function createThroughConmon(
      id: string,
      dir: string,
      options: Parameters<typeof createArgs>[2] = {},
    ) {
      fs.mkdirSync(path.join(dirs.persist, id), { recursive: true });
      const created = await conmon(createArgs(id, dir, options), { cwd: dir, label: id.slice(0, 8) });
      const [sync] = await created.messages(1);
      return { created, sync };
    }

    /** CreateContainer, then StartContainer (`RUNTIME --root ROOT start ID`); returns the init's pid. */
    async function createAndStart(
      id: string,
      dir: string,
      options: { terminal?: boolean; stdin?: boolean } = {},
    ): Promise<number> {
      const { created, sync } = await createThroughConmon(id, dir, options);
      expect(created.exitCode, created.stderr()).toBe(0);
      expect(sync?.pid, created.stderr()).toBeGreaterThan(0);
      const started = await runtimeCmd(['start', id]);
      expect(started.exitCode, started.stderr).toBe(0);
      return sync!.pid!;
    }

    /**
     * runtime_oci.go, ExecSyncContainer: conmon -e runs
     * `gantry-oci --root=ROOT exec --pid-file P --process FILE --detach ID` in the main container and
     * waits for the process (-T: kills it after that many seconds); its output goes to a log of its own.
     */
    async function execSync(label: string, processSpec: string, options: { timeoutSeconds?: number } = {}) {
      const pidFile = path.join(base, `${label}.pid`);
      const log = path.join(base, `${label}.log`);
      fs.writeFileSync(log, '');
      const exec = await conmon(
        [
          '-c',
          main,
          '-n',
          `k8s_ctr_pod_default_${main.slice(0, 8)}_0`,
          '-r',
          GANTRY_OCI,
          '-p',
          pidFile,
          '-e',
          '-l',
          log,
          '--socket-dir-path',
          dirs.attach,
          '--log-level',
          'info',
          '--sync',
          '--log-global-size-max',
          String(16 * 1024 * 1024),
          ...(options.timeoutSeconds === undefined ? [] : ['-T', String(options.timeoutSeconds)]),
          '--exec-process-spec',
          processSpec,
          '--runtime-arg',
          `--root=${stateRoot}`,
        ],
        { label },
      );
      return { exec, pidFile, log };
    }

    const exitFile = (id: string) => path.join(dirs.exits, id);
    const persistExitFile = (id: string) => path.join(dirs.persist, id, 'exit');
    const ppid = (pid: number) =>
      Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);

    beforeAll(async () => {
      ({ base, bundle, stateRoot } = await makeOciBundle('crio', ['env', 'tty']));
      dirs = {
        persist: path.join(base, 'persist'),
        exits: path.join(base, 'exits'),
        logs: path.join(base, 'logs'),
        attach: path.join(base, 'attach'),
      };
      for (const dir of Object.values(dirs)) fs.mkdirSync(dir, { recursive: true });
      podNetns = await createTestNetns('crio-pod');
    });

    afterAll(async () => {
      for (const id of fs.existsSync(stateRoot) ? fs.readdirSync(stateRoot) : [])
        await runtimeCmd(['delete', '--force', id]);
      // The pod's cgroup is the caller's (kubelet makes it): gantry-oci leaves it, as runc does;
      // a container's cgroup left below it is the finding.
      const parents = cgroupDirectories(cgroupParent);
      const left = parents.flatMap((parent) =>
        fs
          .readdirSync(parent, { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => path.join(parent, entry.name)),
      );
      for (const dir of [...left, ...parents]) fs.rmdirSync(dir);
      fs.rmSync(base, { recursive: true, force: true });
      if (podNetns) await deleteTestNetns(podNetns);
      expect(left).toEqual([]);
    });

    it('--version and features (pkg/config/config.go, initializeRuntimeFeatures) print what CRI-O parses', async () => {
      const version = await execa(GANTRY_OCI, ['--version'], { env: crioEnv(false), extendEnv: false });
      expect(version.stdout).toMatch(/^gantry-oci version \S+/);
      const features = await execa(GANTRY_OCI, ['features'], { env: crioEnv(false), extendEnv: false });
      const parsed = JSON.parse(features.stdout) as {
        ociVersionMin: string;
        ociVersionMax: string;
        mountOptions: string[];
        linux?: { mountExtensions?: { idmap?: { enabled?: boolean } } };
      };
      expect(parsed.ociVersionMin).toMatch(/^1\./);
      // RuntimeSupportsMountFlag("rro") and RuntimeSupportsIDMap read these.
      expect(Array.isArray(parsed.mountOptions)).toBe(true);
      // Not implemented (refused at create): CRI-O then chowns a user-namespaced pod's volumes.
      expect(parsed.linux?.mountExtensions?.idmap?.enabled).toBe(false);
    });

    const main = newId();
    let mainDir = '';
    let mainPid = 0;

    it('CreateContainer through conmon: sync pipe {"pid"}, the pid file, the init a child of conmon, state "created"', async () => {
      mainDir = containerBundle(main, (spec) => {
        spec.process.args = ['sh', '-c', 'echo started; echo oops >&2; trap "exit 0" TERM; sleep 600 & wait'];
        // server/sandbox_run_linux.go: a pod's containers join its pinned namespaces by path.
        for (const ns of spec.linux.namespaces as { type: string; path?: string }[])
          if (ns.type === 'network') ns.path = `/run/netns/${podNetns}`;
      });
      const { created, sync } = await createThroughConmon(main, mainDir);
      expect(created.exitCode, created.stderr()).toBe(0);
      mainPid = sync!.pid!;
      expect(mainPid, created.stderr()).toBeGreaterThan(0);
      // conmon read it from the pid file gantry-oci wrote.
      expect(Number(fs.readFileSync(path.join(mainDir, 'pidfile'), 'utf8'))).toBe(mainPid);
      // getConmonProcess: conmon's own pid file; conmon is the init's parent (it reaps it).
      const conmonPid = Number(fs.readFileSync(path.join(mainDir, 'conmon-pidfile'), 'utf8'));
      expect(fs.existsSync(`/proc/${conmonPid}`)).toBe(true);
      expect(ppid(mainPid)).toBe(conmonPid);
      expect(fs.statSync(`/proc/${mainPid}/ns/net`).ino).toBe(fs.statSync(`/run/netns/${podNetns}`).ino);
      // UpdateContainerStatus: `state` decoded into ContainerState.
      const s = await state(main);
      expect(s).toMatchObject({ id: main, status: 'created', pid: mainPid, bundle: mainDir });
      expect(s.ociVersion).toMatch(/^1\./);
      expect(s.annotations?.['io.kubernetes.container.name']).toBe('ctr');
      if (s.created !== undefined) expect(Number.isNaN(Date.parse(s.created))).toBe(false);
    });

    it('StartContainer (start): state "running", output in the CRI log conmon writes, no caller variable in the init', async () => {
      expect((await runtimeCmd(['start', main])).exitCode).toBe(0);
      expect(await state(main)).toMatchObject({ status: 'running', pid: mainPid });
      const log = path.join(dirs.logs, `${main}.log`);
      const lines = await waitFor(() => {
        const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
        return /stdout F started$/m.test(text) && /stderr F oops$/m.test(text) ? text : undefined;
      });
      // runtime_oci.go, parseLog: "DATE pipe TAG CONTENT".
      expect(lines).toMatch(/^\S+ stdout F started$/m);
      const environ = fs.readFileSync(`/proc/${mainPid}/environ`, 'utf8').split('\0').join('\n');
      expect(environ).toContain('HOSTNAME=');
      expect(environ).not.toMatch(CALLER_ONLY);
    });

    it('UpdateContainer (update --resources -): the linux.resources CRI-O marshals take effect in the cgroup', async () => {
      // server/container_update_resources.go, toOCIResources: cpu and memory always present, swap
      // equal to the limit where the host accounts swap.
      const swap = fs.existsSync(cgroupFile(main, 'memory', 'memory.memsw.limit_in_bytes'));
      const limit = 192 * 1024 * 1024;
      const resources = {
        cpu: { shares: 512, quota: 20000, period: 100000 },
        memory: { limit, ...(swap ? { swap: limit } : {}) },
      };
      const updated = await runtimeCmd(['update', '--resources', '-', main], {
        input: JSON.stringify(resources),
      });
      expect(updated.exitCode, updated.stderr).toBe(0);
      expect(fs.readFileSync(cgroupFile(main, 'cpu', 'cpu.shares'), 'utf8').trim()).toBe('512');
      expect(fs.readFileSync(cgroupFile(main, 'cpu', 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('20000');
      expect(fs.readFileSync(cgroupFile(main, 'cpu', 'cpu.cfs_period_us'), 'utf8').trim()).toBe('100000');
      expect(Number(fs.readFileSync(cgroupFile(main, 'memory', 'memory.limit_in_bytes'), 'utf8'))).toBe(
        limit,
      );
      if (swap)
        expect(
          Number(fs.readFileSync(cgroupFile(main, 'memory', 'memory.memsw.limit_in_bytes'), 'utf8')),
        ).toBe(limit);
      // A request that sets nothing marshals to empty objects: accepted, nothing changes.
      const empty = await runtimeCmd(['update', '--resources', '-', main], {
        input: '{"cpu":{},"memory":{}}',
      });
      expect(empty.exitCode, empty.stderr).toBe(0);
      expect(fs.readFileSync(cgroupFile(main, 'cpu', 'cpu.shares'), 'utf8').trim()).toBe('512');
    });

    /** runtime_oci.go, prepareProcessExec: the container's process with other args and terminal. */
    function processFile(args: string[], terminal: boolean): string {
      const spec = JSON.parse(fs.readFileSync(path.join(mainDir, 'config.json'), 'utf8'));
      const file = path.join(base, `exec-process-${randomBytes(4).toString('hex')}`);
      fs.writeFileSync(file, JSON.stringify({ ...spec.process, args, terminal }), { mode: 0o644 });
      return file;
    }

    it('ExecSyncContainer through conmon -e: sync {"exit_code"}, output in the exec log', async () => {
      const file = processFile(['sh', '-c', 'echo out; echo err >&2; env; exit 3'], false);
      const { exec, pidFile, log } = await execSync('exec-sync', file);
      const messages = await exec.messages(1);
      expect(messages.at(-1), exec.stderr()).toEqual({ exit_code: 3 });
      expect(exec.exitCode).toBe(3);
      const text = fs.readFileSync(log, 'utf8');
      expect(text).toMatch(/^\S+ stdout F out$/m);
      expect(text).toMatch(/^\S+ stderr F err$/m);
      expect(text).toMatch(/stdout F HOSTNAME=/);
      expect(text.replace(/^\S+ \S+ \S+ /gm, '')).not.toMatch(CALLER_ONLY);
      // The process conmon waited for was the exec'd one, and it is gone.
      expect(fs.existsSync(`/proc/${Number(fs.readFileSync(pidFile, 'utf8'))}`)).toBe(false);
    });

    it('ExecSyncContainer with a timeout (-T): conmon kills the exec and reports "command timed out"', async () => {
      const { exec, pidFile } = await execSync('exec-timeout', processFile(['sleep', '600'], false), {
        timeoutSeconds: 1,
      });
      const messages = await exec.messages(1);
      expect(messages.at(-1), exec.stderr()).toEqual({ exit_code: -1, message: 'command timed out' });
      const pid = Number(fs.readFileSync(pidFile, 'utf8'));
      await waitFor(
        () => (fs.existsSync(`/proc/${pid}`) ? undefined : true),
        60_000,
        'the timed-out exec gone',
      );
      expect(await state(main)).toMatchObject({ status: 'running' });
    });

    it('ExecContainer (exec --process FILE), stdin a pipe: the exit status is the process’s', async () => {
      // runtime_oci.go, ExecContainer: no prepareEnv; the environment is XDG_RUNTIME_DIR alone.
      const file = processFile(['sh', '-c', 'read line; echo "got $line"; env; exit 7'], false);
      const exec = await execa(GANTRY_OCI, ['--root', stateRoot, 'exec', '--process', file, main], {
        env: { XDG_RUNTIME_DIR: '/run/user/0' },
        extendEnv: false,
        input: 'hello\n',
        reject: false,
      });
      expect(exec.exitCode, String(exec.stderr)).toBe(7);
      expect(String(exec.stdout)).toMatch(/^got hello$/m);
      expect(String(exec.stdout)).not.toMatch(CALLER_ONLY);
    });

    it('ExecContainer with a tty (process.terminal, stdio a pty of the caller’s, no --tty flag)', async () => {
      // oci_unix.go, ttyCmd: pty.Start on the same command: its stdio is a pty, in a new session.
      const file = processFile(['sh', '-c', 'tty; exit 5'], true);
      const command = `env -i XDG_RUNTIME_DIR=/run/user/0 '${GANTRY_OCI}' --root '${stateRoot}' exec --process '${file}' ${main}`;
      const exec = await execa('script', ['-qefc', command, '/dev/null'], { reject: false, stdin: 'ignore' });
      expect(exec.exitCode, `${exec.stdout}\n${exec.stderr}`).toBe(5);
      // (script may echo a control character of its own before it, when its stdin ends.)
      expect(String(exec.stdout)).toMatch(/\/dev\/pts\/\d+\r?$/m);
    });

    it('PauseContainer and UnpauseContainer (pause, resume): the freezer and state', async () => {
      expect((await runtimeCmd(['pause', main])).exitCode).toBe(0);
      expect(fs.readFileSync(cgroupFile(main, 'freezer', 'freezer.state'), 'utf8').trim()).toBe('FROZEN');
      expect(await state(main)).toMatchObject({ status: 'paused', pid: mainPid });
      expect((await runtimeCmd(['resume', main])).exitCode).toBe(0);
      expect(fs.readFileSync(cgroupFile(main, 'freezer', 'freezer.state'), 'utf8').trim()).toBe('THAWED');
      expect(await state(main)).toMatchObject({ status: 'running' });
    });

    it('CheckpointContainer (checkpoint) is refused with why, and leaves the container running', async () => {
      // containers/common crutils.CRRuntimeSupportsCheckpointRestore: `RUNTIME checkpoint --help`
      // exiting 0 means "supported"; CRI-O asks before any checkpoint or restore.
      const probe = await execa(GANTRY_OCI, ['checkpoint', '--help'], { reject: false });
      expect(probe.exitCode).not.toBe(0);
      // runtime_oci.go, CheckpointContainer.
      const checkpoint = await runtimeCmd([
        'checkpoint',
        '--file-locks',
        '--image-path',
        path.join(base, 'checkpoint'),
        '--work-path',
        path.join(dirs.persist, main),
        '--leave-running',
        main,
      ]);
      expect(checkpoint.exitCode).toBe(1);
      expect(checkpoint.stderr).toContain('checkpoint is not supported');
      expect(fs.existsSync(path.join(base, 'checkpoint'))).toBe(false);
      expect(await state(main)).toMatchObject({ status: 'running', pid: mainPid });
    });

    it('StopContainer (kill ID 15): the init exits 0, conmon writes 0 to both exit files, state "stopped"', async () => {
      // runtime_oci.go, StopLoopForContainer: `kill ID <GetStopSignal as a number>`.
      const stop = await runtimeCmd(['kill', main, '15']);
      expect(stop.exitCode, stop.stderr).toBe(0);
      // updateContainerStatusFromExitFile: a bare number, no newline.
      await waitFor(() => (fs.existsSync(exitFile(main)) ? true : undefined), 60_000, 'the exit file');
      expect(fs.readFileSync(exitFile(main), 'utf8')).toBe('0');
      expect(fs.readFileSync(persistExitFile(main), 'utf8')).toBe('0');
      expect((await state(main)).status).toBe('stopped');
      // The kill loop's retry on a stopped container: the words CRI-O reads as ErrNotFound.
      const again = await runtimeCmd(['kill', main, 'KILL']);
      expect(again.exitCode).not.toBe(0);
      expect(again.stderr).toMatch(/container not running|no such process/);
    });

    it('DeleteContainer (delete --force): state, cgroup and a second delete', async () => {
      const deleted = await runtimeCmd(['delete', '--force', main]);
      expect(deleted.exitCode, deleted.stderr).toBe(0);
      const gone = await runtimeCmd(['state', main]);
      expect(gone.exitCode).not.toBe(0);
      expect(gone.stderr).toContain('does not exist');
      // Its own cgroup is gone; the pod's, now empty, stays: kubelet made it and removes it.
      const parents = cgroupDirectories(cgroupParent);
      expect(parents.length).toBeGreaterThan(0);
      expect(parents.filter((dir) => fs.existsSync(path.join(dir, `crio-${main}`)))).toEqual([]);
      // A delete of what is gone succeeds, as runc's (CRI-O also maps it to "not found").
      expect((await runtimeCmd(['delete', '--force', main])).exitCode).toBe(0);
    });

    it('the kill loop (kill ID KILL) after a stop signal the init ignores: exit file 137', async () => {
      const id = newId();
      // pid 1 of its namespace ignores SIGTERM without a handler: only KILL ends it.
      const dir = containerBundle(id, (spec) => {
        spec.process.args = ['sleep', '600'];
      });
      const pid = await createAndStart(id, dir);
      expect((await runtimeCmd(['kill', id, '15'])).exitCode).toBe(0);
      expect((await runtimeCmd(['kill', id, 'KILL'])).exitCode).toBe(0);
      await waitFor(() => (fs.existsSync(exitFile(id)) ? true : undefined), 60_000, 'the exit file');
      expect(fs.readFileSync(exitFile(id), 'utf8')).toBe('137');
      expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
      expect((await runtimeCmd(['delete', '--force', id])).exitCode).toBe(0);
    });

    it('a container with a tty (conmon -t, create --console-socket): its output and exit status through conmon', async () => {
      const id = newId();
      const dir = containerBundle(id, (spec) => {
        spec.process.terminal = true;
        spec.process.args = ['sh', '-c', 'tty; exit 4'];
      });
      await createAndStart(id, dir, { terminal: true });
      await waitFor(() => (fs.existsSync(exitFile(id)) ? true : undefined), 60_000, 'the exit file');
      expect(fs.readFileSync(exitFile(id), 'utf8')).toBe('4');
      // The pty's output is one stream: conmon logs it as stdout.
      expect(fs.readFileSync(path.join(dirs.logs, `${id}.log`), 'utf8')).toMatch(
        /^\S+ stdout [FP] \/dev\/pts\/\d+\r?$/m,
      );
      expect((await runtimeCmd(['delete', '--force', id])).exitCode).toBe(0);
    });

    it('a container with stdin (conmon -i): what AttachContainer writes to conmon’s attach socket reaches it', async () => {
      const attach = path.join(base, 'attach-client');
      fs.writeFileSync(`${attach}.c`, ATTACH_C);
      await execa('cc', ['-o', attach, `${attach}.c`]);
      const id = newId();
      const dir = containerBundle(id, (spec) => {
        spec.process.args = ['sh', '-c', 'read line; echo "got $line"'];
      });
      await createAndStart(id, dir, { stdin: true });
      // runtime_oci.go, AttachContainer: ContainerAttachSocketDir/ID/attach (conmon shortens the
      // ID by one character when the path would be exactly sun_path's length).
      const link = fs.readdirSync(dirs.attach).find((name) => name.length >= 63 && id.startsWith(name));
      const client = await execa(attach, [path.join(dirs.attach, link ?? id), 'hello\n'], { reject: false });
      expect(client.exitCode, String(client.stderr)).toBe(0);
      await waitFor(() => (fs.existsSync(exitFile(id)) ? true : undefined), 60_000, 'the exit file');
      expect(fs.readFileSync(exitFile(id), 'utf8')).toBe('0');
      expect(fs.readFileSync(path.join(dirs.logs, `${id}.log`), 'utf8')).toMatch(/^\S+ stdout F got hello$/m);
      expect((await runtimeCmd(['delete', '--force', id])).exitCode).toBe(0);
    });

    it('a node-level pid namespace (kill -a ID 9): what the init left in the cgroup ends', async () => {
      const id = newId();
      const dir = containerBundle(id, (spec) => {
        spec.linux.namespaces = spec.linux.namespaces.filter((ns: { type: string }) => ns.type !== 'pid');
        spec.process.args = ['sh', '-c', 'sleep 600 & echo left; exit 0'];
      });
      await createAndStart(id, dir);
      await waitFor(() => (fs.existsSync(exitFile(id)) ? true : undefined), 60_000, 'the exit file');
      expect(fs.readFileSync(exitFile(id), 'utf8')).toBe('0');
      const procs = () => fs.readFileSync(cgroupFile(id, 'pids', 'cgroup.procs'), 'utf8').trim();
      expect(procs()).not.toBe('');
      // runtime_oci.go, UpdateContainerStatus -> signalContainer(c, SIGKILL, all=true).
      const all = await runtimeCmd(['kill', '-a', id, '9']);
      expect(all.exitCode, all.stderr).toBe(0);
      await waitFor(() => (procs() === '' ? true : undefined), 60_000, 'an empty cgroup');
      expect((await runtimeCmd(['delete', '--force', id])).exitCode).toBe(0);
    });

    it('RestoreContainer (conmon --restore): the sync pipe carries pid -1 and why; no container is left', async () => {
      const id = newId();
      const dir = containerBundle(id, () => {});
      // conmon runs `gantry-oci --root=ROOT restore --bundle DIR --pid-file P --detach
      // --image-path CHECKPOINT --work-path DIR ID`.
      const { created: restored, sync } = await createThroughConmon(id, dir, {
        restore: path.join(base, 'checkpoint'),
      });
      expect(sync?.pid, restored.stderr()).toBe(-1);
      expect(sync?.message).toContain('restore is not supported');
      expect((await runtimeCmd(['state', id])).stderr).toContain('does not exist');
    });

    it('cgroup_manager = systemd (conmon -s, --systemd-cgroup on every call) is refused with why', async () => {
      const id = newId();
      const dir = containerBundle(id, () => {});
      const { created, sync } = await createThroughConmon(id, dir, { systemd: true });
      expect(sync?.pid, created.stderr()).toBe(-1);
      expect(sync?.message).toContain('--systemd-cgroup is not supported');
      const direct = await runtimeCmd(['state', id], { systemd: true });
      expect(direct.exitCode).toBe(1);
      expect(direct.stderr).toContain('--systemd-cgroup is not supported');
      expect((await runtimeCmd(['state', id])).stderr).toContain('does not exist');
    });
  },
);
