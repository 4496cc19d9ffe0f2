import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ImageFormatError } from '../../../source/runtime/errors.js';
import { parseElf } from '../../../source/runtime/images/elf.js';
import { formatPlatform, platformScore } from '../../../source/runtime/images/import/platform.js';
import { needsFile, skipIf } from '../../support/skip.js';

const LS = ['/bin/ls', '/usr/bin/ls'];
const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'];

describe('parseElf', () => {
  it('finds the interpreter and the needed libraries of a dynamic binary', (context) => {
    skipIf(context, needsFile(LS, 'ls', 'coreutils'));
    const dynamicBinary = LS.find((file) => fs.existsSync(file)) as string;
    const elf = parseElf(fs.readFileSync(dynamicBinary), dynamicBinary);
    expect(elf.isStatic).toBe(false);
    expect(elf.interpreter).toMatch(/^\/.*ld.*\.so/);
    expect(elf.needed).toContain('libc.so.6');
  });

  it('recognizes a static binary (busybox-static)', (context) => {
    skipIf(context, needsFile(BUSYBOX, 'busybox', 'busybox-static'));
    const staticBusybox = BUSYBOX.find((file) => fs.existsSync(file)) as string;
    const elf = parseElf(fs.readFileSync(staticBusybox), staticBusybox);
    expect(elf.isStatic).toBe(true);
    expect(elf.interpreter).toBeUndefined();
    expect(elf.needed).toEqual([]);
  });

  it('refuses non-ELF and truncated input', () => {
    expect(() => parseElf(Buffer.from('#!/bin/sh\n'), 'script')).toThrow(/script is not an ELF file/);
    const header = Buffer.alloc(64);
    Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1]).copy(header);
    header.writeBigUInt64LE(4096n, 0x20);
    header.writeUInt16LE(56, 0x36);
    header.writeUInt16LE(1, 0x38);
    expect(() => parseElf(header, 'cut')).toThrow(ImageFormatError);
  });
});

describe('platforms', () => {
  const amd64 = { os: 'linux', architecture: 'amd64' };
  it('matches os and architecture, and variants where they matter', () => {
    expect(platformScore({ os: 'linux', architecture: 'amd64' }, amd64)).toBeGreaterThan(0);
    expect(platformScore({ os: 'linux', architecture: 'arm64' }, amd64)).toBe(0);
    expect(platformScore({ os: 'windows', architecture: 'amd64' }, amd64)).toBe(0);
    const armv7 = { os: 'linux', architecture: 'arm', variant: 'v7' };
    expect(platformScore({ os: 'linux', architecture: 'arm', variant: 'v6' }, armv7)).toBe(0);
    expect(platformScore({ os: 'linux', architecture: 'arm', variant: 'v7' }, armv7)).toBe(2);
    expect(
      platformScore(
        { os: 'linux', architecture: 'arm64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
      ),
    ).toBe(1);
    expect(formatPlatform(armv7)).toBe('linux/arm/v7');
  });
});
