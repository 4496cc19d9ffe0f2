/**
 * A `runc spec` bundle over a busybox root, and a gantry-oci runner that calls it the way
 * containerd or conmon call runc: detached commands get real file descriptors, not pipes.
 */
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cgroupDirectories, GANTRY_OCI, testName } from './engine.js';
import { needsFile, needsRoot } from './skip.js';

export const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
export const runc = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => fs.existsSync(p));
/** Why a gantry-oci suite cannot run here (none in CI: it installs both). */
export const ociSuiteNeeds = () => [
  needsRoot(),
  needsFile(['/bin/busybox', '/usr/bin/busybox'], 'busybox', 'busybox-static'),
  needsFile(['/usr/sbin/runc', '/usr/bin/runc'], 'runc (for `runc spec`)', 'runc'),
];

const APPLETS = [
  'sh',
  'sleep',
  'echo',
  'cat',
  'hostname',
  'ps',
  'grep',
  'true',
  'touch',
  'ls',
  'wc',
  'yes',
  'head',
];

export interface OciBundle {
  base: string;
  bundle: string;
  stateRoot: string;
}

export async function makeOciBundle(label: string, applets: string[] = []): Promise<OciBundle> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), `${testName(label)}-`));
  const bundle = path.join(base, 'bundle');
  const stateRoot = path.join(base, 'state');
  fs.mkdirSync(path.join(bundle, 'rootfs', 'bin'), { recursive: true });
  fs.copyFileSync(busybox!, path.join(bundle, 'rootfs', 'bin', 'busybox'));
  fs.chmodSync(path.join(bundle, 'rootfs', 'bin', 'busybox'), 0o755);
  for (const applet of new Set([...APPLETS, ...applets]))
    fs.symlinkSync('busybox', path.join(bundle, 'rootfs', 'bin', applet));
  await execa(runc!, ['spec'], { cwd: bundle });
  return { base, bundle, stateRoot };
}

export interface OciResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Commands after which a process outlives gantry-oci and keeps the descriptors it was given. */
function detached(args: readonly string[]): boolean {
  const [command] = args;
  return (
    command === 'create' ||
    ((command === 'run' || command === 'exec') && (args.includes('-d') || args.includes('--detach')))
  );
}

export function ociRunner(
  where: () => OciBundle,
  env: Record<string, string>,
): (...args: string[]) => Promise<OciResult> {
  return async (...args) => {
    const { base, stateRoot } = where();
    if (detached(args)) {
      // As with runc, a detached process keeps the stdio it was given: real files (execa would put
      // a pipe in front of a {file} target, which stays open until the process exits).
      const out = path.join(base, 'detached.out');
      const err = path.join(base, 'detached.err');
      const outFd = fs.openSync(out, 'w');
      const errFd = fs.openSync(err, 'w');
      try {
        const child = spawn(process.execPath, [GANTRY_OCI, '--root', stateRoot, ...args], {
          env: { ...process.env, ...env },
          stdio: ['ignore', outFd, errFd],
        });
        const exitCode = await new Promise<number>((resolve) =>
          child.on('exit', (code) => resolve(code ?? 128)),
        );
        return { stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8'), exitCode };
      } finally {
        fs.closeSync(outFd);
        fs.closeSync(errFd);
      }
    }
    const result = await execa(process.execPath, [GANTRY_OCI, '--root', stateRoot, ...args], {
      env,
      reject: false,
      stdin: 'ignore',
      stripFinalNewline: false,
    });
    return { stdout: String(result.stdout), stderr: String(result.stderr), exitCode: result.exitCode ?? 128 };
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests edit arbitrary spec fields
export function editSpec(bundle: string, edit: (spec: Record<string, any>) => void): void {
  const file = path.join(bundle, 'config.json');
  const spec = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(spec);
  fs.writeFileSync(file, JSON.stringify(spec));
}

/** Deletes every container left, then returns the cgroups delete left (the finding) and removes them. */
export async function tearDownOci(
  oci: (...args: string[]) => Promise<OciResult>,
  where: OciBundle,
  cgroupParent: string,
): Promise<string[]> {
  for (const id of fs.existsSync(where.stateRoot) ? fs.readdirSync(where.stateRoot) : [])
    await oci('delete', '--force', id);
  const left = cgroupDirectories(cgroupParent);
  for (const dir of left) fs.rmdirSync(dir);
  fs.rmSync(where.base, { recursive: true, force: true });
  return left;
}

/** The C source of a console receiver like containerd's: accept, take the fd, print the terminal. */
export const RECVTTY_C = `#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strncpy(a.sun_path, argv[1], sizeof a.sun_path - 1);
  if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 1)) return 2;
  printf("ready\\n"); fflush(stdout);
  int c = accept(s, 0, 0);
  char b; struct iovec v = {&b, 1}; char ctl[CMSG_SPACE(sizeof(int))];
  struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
  if (recvmsg(c, &m, 0) != 1) return 3;
  int fd; memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof fd);
  char buf[4096]; ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, n, stdout);
  return 0;
}
`;
