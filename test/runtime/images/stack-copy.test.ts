/**
 * StackCopier, the copier COPY --from and a volume's pre-fill share, on real layer directories:
 * what each sink is told (order, hard links, symlinks as links, device numbers, sockets left
 * out, overlay whiteouts applied) and that a layer's symlink never makes it read a host file.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { StackCopier, type StackCopySink } from '../../../source/runtime/images/diff/stack-copy.js';
import { StackView } from '../../../source/runtime/images/diff/stack-view.js';
import { mknod, S_IFCHR, S_IFIFO } from '../../../source/runtime/sys/libc.js';

const MARKER = `host-secret-${process.pid}`;
let base: string;
let lower: string;
let upper: string;
let hostFile: string;

beforeEach(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-stack-copy-'));
  lower = path.join(base, 'lower');
  upper = path.join(base, 'upper');
  hostFile = path.join(base, 'host-file');
  fs.writeFileSync(hostFile, `${MARKER}\n`);
  fs.mkdirSync(path.join(lower, 'data', 'sub'), { recursive: true });
  fs.writeFileSync(path.join(lower, 'data', 'b-file'), 'lower b\n');
  fs.writeFileSync(path.join(lower, 'data', 'gone'), 'hidden by a whiteout\n');
  fs.writeFileSync(path.join(lower, 'data', 'sub', 'deep'), 'deep\n');
  fs.mkdirSync(path.join(upper, 'data'), { recursive: true });
  fs.writeFileSync(path.join(upper, 'data', 'a-linked'), 'linked\n');
  fs.linkSync(path.join(upper, 'data', 'a-linked'), path.join(upper, 'data', 'c-linked'));
  fs.symlinkSync(hostFile, path.join(upper, 'data', 'escape'));
  mknod(path.join(upper, 'data', 'gone'), S_IFCHR, 0, 0);
  mknod(path.join(upper, 'data', 'null'), S_IFCHR | 0o666, 1, 3);
  mknod(path.join(upper, 'data', 'pipe'), S_IFIFO | 0o600);
});

afterEach(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

/** A sink that writes down what it was told, reading file content through the fd it is given. */
function recordingSink(log: string[]): StackCopySink<string, string> {
  return {
    async directory(place, name, _entry, copyChildren) {
      log.push(`dir ${place}/${name}`);
      await copyChildren(`${place}/${name}`);
    },
    async file(place, name, _entry, fd) {
      try {
        log.push(`file ${place}/${name} ${JSON.stringify(fs.readFileSync(fd, 'utf8'))}`);
      } finally {
        fs.closeSync(fd);
      }
      return `${place}/${name}`;
    },
    async symlink(place, name, _entry, linkTarget) {
      log.push(`symlink ${place}/${name} -> ${linkTarget}`);
      return undefined;
    },
    async node(place, name, _entry, type, { major, minor }) {
      log.push(`${type} ${place}/${name} ${major}:${minor}`);
      return undefined;
    },
    async hardlink(place, name, _entry, first) {
      log.push(`hardlink ${place}/${name} => ${first}`);
    },
  };
}

it('copies a stack in name order with overlay rules, links as links, hard links once', async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(path.join(upper, 'data', 'socket'), resolve));
  try {
    const view = new StackView([lower, upper]);
    const data = view.lookup('/data');
    expect(data?.stats.isDirectory()).toBe(true);
    const log: string[] = [];
    const copier = new StackCopier(view, recordingSink(log));
    try {
      await copier.copyChildren(data!, '');
    } finally {
      copier.close();
    }
    expect(log).toEqual([
      'file /a-linked "linked\\n"',
      'file /b-file "lower b\\n"',
      'hardlink /c-linked => /a-linked',
      `symlink /escape -> ${hostFile}`,
      'char /null 1:3',
      'fifo /pipe 0:0',
      'dir /sub',
      'file /sub/deep "deep\\n"',
    ]);
    expect(log.join('\n')).not.toContain(MARKER);
  } finally {
    server.close();
  }
});

it('never reads a host file when a layer directory on the way is a symlink to the host', async () => {
  // The entry claims to live under /data/sub in the upper layer, where a symlink now stands:
  // the copier's in-layer open must refuse it rather than follow the link to the host.
  const view = new StackView([lower, upper]);
  const deep = view.lookup('/data/sub/deep');
  expect(deep).toBeDefined();
  fs.renameSync(path.join(lower, 'data', 'sub'), path.join(lower, 'data', 'aside'));
  fs.mkdirSync(path.join(base, 'host-dir'));
  fs.writeFileSync(path.join(base, 'host-dir', 'deep'), `${MARKER}\n`);
  fs.symlinkSync(path.join(base, 'host-dir'), path.join(lower, 'data', 'sub'));
  const log: string[] = [];
  const copier = new StackCopier(view, recordingSink(log));
  try {
    await expect(copier.copy(deep!, '', 'deep')).rejects.toThrow();
  } finally {
    copier.close();
  }
  expect(log.join('\n')).not.toContain(MARKER);
});
