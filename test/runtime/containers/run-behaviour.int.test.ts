/**
 * What a process sees of its identity and devices, and what is said when it cannot be executed
 * after the start: `id`'s groups, --privileged's /dev, an image of another architecture.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { engineForSuite, testName } from '../../support/engine.js';
import { describeUnless, needsRoot } from '../../support/skip.js';
import { tarBuffer, writeOciLayout } from '../images/support.js';

/** The char and block devices under `dir`, as paths relative to it, without the ones skipped. */
function deviceNodes(dir: string, skip: ReadonlySet<string>, prefix = ''): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const relative = path.posix.join(prefix, entry.name);
    if (entry.isDirectory()) {
      if (!skip.has(relative)) found.push(...deviceNodes(path.join(dir, entry.name), skip, relative));
    } else if ((entry.isCharacterDevice() || entry.isBlockDevice()) && !skip.has(relative)) {
      found.push(relative);
    }
  }
  return found.sort();
}

const groupsOf = (status: string) => /^Groups:\s*(.*)$/m.exec(status)?.[1]?.trim();

describeUnless(needsRoot(), 'identity, devices and exec failures', () => {
  const engine = engineForSuite('runbeh');
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('runbeh')}-`));
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it('puts the primary group among the supplementary groups, as docker and podman do', async () => {
    const root = await engine.gantry(['run', '--rm', 'demo', 'cat', '/proc/self/status']);
    expect(root.exitCode).toBe(0);
    expect(groupsOf(root.stdout)).toBe('0');
    const nobody = await engine.gantry(['run', '--rm', '-u', 'nobody', 'demo', 'id']);
    expect(nobody.stdout).toMatch(/groups=65534\(/);
    // A group given explicitly is the only one.
    const explicit = await engine.gantry([
      'run',
      '--rm',
      '-u',
      '1234:5678',
      'demo',
      'cat',
      '/proc/self/status',
    ]);
    expect(groupsOf(explicit.stdout)).toBe('5678');
  });

  it("gives a --privileged container the host's device nodes, a plain one docker's few", async () => {
    // What the container has of its own: its devpts, shm, mqueue; and the host's console.
    const skip = new Set(['pts', 'shm', 'mqueue', 'fd', 'console', 'ptmx', '.lxc', '.lxd-mounts', '.udev']);
    const host = deviceNodes('/dev', skip);
    const privileged = await engine.gantry([
      'run',
      '--rm',
      '--privileged',
      'demo',
      'sh',
      '-c',
      "find /dev -path /dev/pts -prune -o -path /dev/shm -prune -o -path /dev/mqueue -prune -o \\( -type c -o -type b \\) -print | sed 's|^/dev/||'; echo ---; ls -l /dev/ptmx; stat -c '%t:%T %a' /dev/null",
    ]);
    expect(privileged.exitCode, privileged.stderr).toBe(0);
    const [listed, rest] = privileged.stdout.split('---\n');
    const inside = listed!.split('\n').filter(Boolean).sort();
    expect(inside.filter((name) => !skip.has(name))).toEqual(host);
    expect(host.length).toBeGreaterThan(6);
    // /dev/ptmx stays the container's own (pts/ptmx), not the host's multiplexer.
    expect(rest).toContain('/dev/ptmx -> pts/ptmx');
    expect(rest).toContain('1:3 666');
    const plain = await engine.gantry([
      'run',
      '--rm',
      'demo',
      'find',
      '/dev',
      '-path',
      '/dev/pts',
      '-prune',
      '-o',
      '-type',
      'c',
      '-print',
    ]);
    expect(plain.stdout.split('\n').filter(Boolean).sort()).toEqual(
      ['/dev/full', '/dev/null', '/dev/random', '/dev/tty', '/dev/urandom', '/dev/zero'].sort(),
    );
  });

  it("says `exec format error` and the image's platform for an image of another architecture", async () => {
    const foreign =
      process.arch === 'arm64' ? { arch: 'amd64', machine: 62 } : { arch: 'arm64', machine: 183 };
    // An ELF header for the other machine: the kernel refuses it with ENOEXEC.
    const elf = Buffer.alloc(64);
    elf.write('\x7fELF', 0, 'latin1');
    elf[4] = 2; // 64-bit
    elf[5] = 1; // little endian
    elf[6] = 1;
    elf.writeUInt16LE(2, 16); // ET_EXEC
    elf.writeUInt16LE(foreign.machine, 18);
    const layer = await tarBuffer([{ entry: { path: 'hello', type: 'file', mode: 0o755 }, body: elf }]);
    const layout = writeOciLayout(path.join(scratch, 'foreign'), {
      layers: [{ tar: layer }],
      architecture: foreign.arch,
      config: { config: { Cmd: ['/hello'] } },
    });
    const imported = await engine.gantry(['image', 'import', layout, 'foreign:1']);
    expect(imported.exitCode, imported.stderr).toBe(0);

    const run = await engine.gantry(['run', '--name', 'foreign', 'foreign:1']);
    expect(run.exitCode).toBe(126);
    // The container's stderr says it as runc's init does; gantry adds the platforms.
    expect(run.stderr).toContain('exec /hello: exec format error\n');
    expect(run.stderr).toContain(`the image's platform is linux/${foreign.arch}`);
    const state = JSON.parse((await engine.gantry(['inspect', 'foreign'])).stdout)[0].State;
    expect(state.ExitCode).toBe(126);
    expect(state.Error).toContain('exec: "/hello": exec format error');
    expect(state.Error).toContain(`linux/${foreign.arch}`);
    // Detached, the log keeps the line.
    const detached = await engine.gantry(['run', '-d', '--name', 'foreign-d', 'foreign:1']);
    expect(detached.exitCode).toBe(0);
    expect((await engine.gantry(['wait', 'foreign-d'])).stdout).toBe('126\n');
    const logs = await engine.gantry(['logs', 'foreign-d']);
    expect(logs.stderr).toBe('exec /hello: exec format error\n');
  });

  it('prints every execve failure after the start, not only a missing command', async () => {
    // The script exists (the lookup before the start passes); its interpreter does not.
    const script = path.join(scratch, 'script');
    fs.writeFileSync(script, '#!/no/such/interpreter\n', { mode: 0o755 });
    const run = await engine.gantry(['run', '--rm', '-v', `${script}:/s:ro`, 'demo', '/s']);
    expect(run.exitCode).toBe(127);
    expect(run.stderr).toContain('exec /s: no such file or directory');
  });
});
