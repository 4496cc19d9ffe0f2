/**
 * The in-root resolver on real directories: symlinks planted to reach host files resolve inside the
 * tree, for the kernel's openat2 and for the fallback walk alike (same table, both must agree), and
 * a directory handle never follows a child swapped for a symlink, nor opens a FIFO.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DirectoryHandle,
  openInRootByOpenat2,
  openInRootByWalk,
  openRoot,
  readTextInRoot,
  type SymlinkRule,
} from '../../source/runtime/in-root.js';
import { SyscallError } from '../../source/runtime/errors.js';
import { errnoName, O_PATH, openat2, RESOLVE_IN_ROOT } from '../../source/runtime/sys/libc.js';

let base: string;
let root: string;
let host: string;

beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-in-root-'));
  root = path.join(base, 'root');
  host = path.join(base, 'host');
  fs.mkdirSync(host);
  fs.writeFileSync(path.join(host, 'passwd'), 'intruder:x:4242:4242::/:/bin/sh\n');
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.mkdirSync(path.join(root, 'real', 'inner'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc', 'group'), 'root:x:0:\n');
  fs.writeFileSync(path.join(root, 'real', 'inner', 'file'), 'inside\n');
  // Every way out a container could plant.
  fs.symlinkSync(path.join(host, 'passwd'), path.join(root, 'etc', 'passwd'));
  fs.symlinkSync(host, path.join(root, 'hostdir'));
  fs.symlinkSync('../../../../../../../..' + host, path.join(root, 'climb'));
  fs.symlinkSync('/real/inner', path.join(root, 'absolute-inside'));
  fs.symlinkSync('../real/inner/file', path.join(root, 'etc', 'relative-inside'));
  fs.symlinkSync('loop-b', path.join(root, 'loop-a'));
  fs.symlinkSync('loop-a', path.join(root, 'loop-b'));
  fs.symlinkSync('/proc/self/root' + host, path.join(root, 'magic'));
  // The same file the symlinks aim at, but inside the root: what in-root resolution must find.
  fs.mkdirSync(path.join(root, base, 'host'), { recursive: true });
  fs.writeFileSync(path.join(root, base, 'host', 'passwd'), 'inside:x:1:1::/:/bin/sh\n');
});

afterAll(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

type Opener = (root: number, file: string, flags: number, rule: SymlinkRule) => number;

const implementations: Array<[string, Opener]> = [
  ['openat2', openInRootByOpenat2],
  ['the O_NOFOLLOW walk', openInRootByWalk],
];

function read(open: Opener, file: string, rule: SymlinkRule = 'in-root'): string {
  const rootFd = openRoot(root);
  try {
    const fd = open(rootFd, file, fs.constants.O_RDONLY, rule);
    try {
      return fs.readFileSync(fd, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    if (error instanceof SyscallError) return error.code;
    throw error;
  } finally {
    fs.closeSync(rootFd);
  }
}

describe.each(implementations)('in-root resolution by %s', (_name, open) => {
  it('resolves an absolute symlink to a host file inside the root', () => {
    expect(read(open, 'etc/passwd')).toBe('inside:x:1:1::/:/bin/sh\n');
    expect(read(open, '/hostdir/passwd')).toBe('inside:x:1:1::/:/bin/sh\n');
  });

  it('never climbs above the root with ".."', () => {
    expect(read(open, 'climb/passwd')).toBe('inside:x:1:1::/:/bin/sh\n');
    expect(read(open, '../../../../' + host + '/passwd')).toBe('inside:x:1:1::/:/bin/sh\n');
  });

  it('follows symlinks that stay inside, relative and absolute', () => {
    expect(read(open, 'absolute-inside/file')).toBe('inside\n');
    expect(read(open, 'etc/relative-inside')).toBe('inside\n');
    expect(read(open, 'etc/group')).toBe('root:x:0:\n');
  });

  it('gives up on loops, and does not follow /proc magic through a planted link', () => {
    expect(read(open, 'loop-a')).toBe('ELOOP');
    // /proc/self/root in the tree is just a path inside it: absent there.
    expect(read(open, 'magic/passwd')).toBe('ENOENT');
  });

  it("refuses every symlink with rule 'none', and '..' out of the root", () => {
    expect(read(open, 'real/inner/file', 'none')).toBe('inside\n');
    expect(read(open, 'etc/passwd', 'none')).toBe('ELOOP');
    expect(read(open, 'hostdir/passwd', 'none')).toBe('ELOOP');
    expect(read(open, 'real/../../host/passwd', 'none')).toBe('EXDEV');
  });

  it('keeps a final symlink itself with O_PATH|O_NOFOLLOW', () => {
    const rootFd = openRoot(root);
    try {
      const fd = open(rootFd, 'etc/passwd', O_PATH | fs.constants.O_NOFOLLOW, 'in-root');
      expect(fs.fstatSync(fd).isSymbolicLink()).toBe(true);
      fs.closeSync(fd);
    } finally {
      fs.closeSync(rootFd);
    }
  });
});

describe('readTextInRoot', () => {
  it('reads through the container root, never the host file the symlink names', () => {
    expect(readTextInRoot(root, '/etc/passwd')).toBe('inside:x:1:1::/:/bin/sh\n');
    expect(readTextInRoot(root, '/etc/passwd', { symlinks: 'none' })).toBeUndefined();
    expect(readTextInRoot(root, '/etc/missing')).toBeUndefined();
    expect(readTextInRoot(root, '/etc')).toBeUndefined();
  });

  it('refuses a file larger than the cap', () => {
    expect(() => readTextInRoot(root, '/etc/group', { maxBytes: 4 })).toThrow('more than the 4');
  });
});

describe('DirectoryHandle', () => {
  it('skips a child directory swapped for a symlink, and never opens a FIFO in place of a file', () => {
    const tree = path.join(base, 'tree');
    fs.mkdirSync(path.join(tree, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'plain'), 'content');
    execFileSync('mkfifo', [path.join(tree, 'fifo')]);
    const top = DirectoryHandle.open(tree);
    try {
      expect(top.names().sort()).toEqual(['fifo', 'plain', 'sub']);
      expect(top.lstat('sub')?.isDirectory()).toBe(true);
      // The container swaps the directory after we looked at it.
      fs.rmSync(path.join(tree, 'sub'), { recursive: true });
      fs.symlinkSync(host, path.join(tree, 'sub'));
      expect(top.openDirectory('sub')).toBeUndefined();
      expect(top.lstat('sub')?.isSymbolicLink()).toBe(true);
      expect(top.readlink('sub')).toBe(host);
      // A FIFO's open would block the reader: it is recognised on its O_PATH descriptor.
      expect(top.openFile('fifo')).toBeUndefined();
      const opened = top.openFile('plain');
      expect(opened?.stats.size).toBe(7);
      fs.closeSync(opened!.fd);
      expect(() => top.entry('../x')).toThrow('not a directory entry name');
    } finally {
      top.close();
    }
  });

  it('refuses to open a tree top that is a symlink', () => {
    expect(() => DirectoryHandle.open(path.join(root, 'hostdir'))).toThrow(/ELOOP|ENOTDIR/);
  });
});

describe('in-root resolution while the host renames and mounts', () => {
  it('errno 11 is named EAGAIN, as node names it', () => {
    expect(errnoName(os.constants.errno.EAGAIN)).toBe('EAGAIN');
    expect(errnoName(os.constants.errno.ENOTSUP)).toBe('ENOTSUP');
  });

  it('answers every ".." resolution while another process renames directories without pause', async () => {
    // Each rename anywhere on the host invalidates the kernel's check of "..", so openat2 answers
    // EAGAIN now and then: the resolver must retry (or walk), never fail or give up. The raw
    // syscall beside it counts the EAGAINs, so the test knows the race really happened.
    const spin = path.join(base, 'spin');
    fs.mkdirSync(path.join(spin, 'a'), { recursive: true });
    const renamer = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs'); const a = ${JSON.stringify(spin + '/a')}, b = ${JSON.stringify(spin + '/b')};
         process.stdout.write('go\\n');
         for (;;) { fs.renameSync(a, b); fs.renameSync(b, a); }`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const rootFd = openRoot(root);
    try {
      await new Promise<void>((resolve, reject) => {
        renamer.stdout.once('data', () => resolve());
        renamer.once('exit', (code) => reject(new Error(`the renamer exited with ${code}`)));
      });
      const deep = Array.from({ length: 32 }, () => 'real/inner/../..').join('/') + '/climb/passwd';
      const answers = new Map<string, number>();
      let raced = 0;
      for (let i = 0; i < 200_000 && raced < 20; i += 1) {
        try {
          fs.closeSync(openat2(rootFd, deep, { flags: fs.constants.O_RDONLY, resolve: RESOLVE_IN_ROOT }));
        } catch (error) {
          if (!(error instanceof SyscallError) || error.errno !== os.constants.errno.EAGAIN) throw error;
          raced += 1;
        }
        const fd = openInRootByOpenat2(rootFd, deep, fs.constants.O_RDONLY, 'in-root');
        const answer = fs.readFileSync(fd, 'utf8');
        fs.closeSync(fd);
        answers.set(answer, (answers.get(answer) ?? 0) + 1);
      }
      expect(raced).toBe(20);
      expect([...answers.keys()]).toEqual(['inside:x:1:1::/:/bin/sh\n']);
    } finally {
      renamer.kill('SIGKILL');
      fs.closeSync(rootFd);
    }
  }, 120_000);
});
