/**
 * --security-opt label=...: the form each option must have, its refusal where the host has no
 * SELinux (label=disable excepted), and the labels go-selinux's InitLabels would compute from a
 * policy's container defaults (Debian's lxc_contexts), an MCS level of the container's own
 * included. The kernel's side (the labels really applied) is test/security/selinux.int.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parseSecurityOptions } from '../../../source/runtime/containers/create.js';
import {
  checkLabelOption,
  containerLabels,
  labelOptions,
  randomLevel,
  readContainerDefaults,
} from '../../../source/runtime/containers/selinux-labels.js';

const modules = vi.hoisted(() => ({ selinux: false }));
vi.mock('../../../source/runtime/spec/security-modules.js', async (importOriginal) => ({
  ...(await importOriginal<Record<string, unknown>>()),
  appArmorEnabled: () => false,
  selinuxEnabled: () => modules.selinux,
}));

/** Debian selinux-policy-default's contexts/lxc_contexts. */
const DEBIAN_LXC_CONTEXTS = `process = "system_u:system_r:container_t:s0"
content = "system_u:object_r:virt_var_lib_t:s0"
file = "system_u:object_r:container_file_t:s0"
ro_file = "system_u:object_r:container_ro_file_t:s0"
sandbox_lxc_process = "system_u:system_r:container_t:s0"
`;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-unit-selinux-'));
fs.mkdirSync(path.join(root, 'default', 'contexts'), { recursive: true });
fs.writeFileSync(path.join(root, 'config'), 'SELINUX=permissive\nSELINUXTYPE=default\n');
fs.writeFileSync(path.join(root, 'default', 'contexts', 'lxc_contexts'), DEBIAN_LXC_CONTEXTS);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A fixed sequence of "random" categories. */
const sequence = (...values: number[]) => {
  let index = 0;
  return () => values[index++ % values.length]!;
};

describe('--security-opt label', () => {
  it('reads the options in order, with either separator', () => {
    expect(
      labelOptions({ SecurityOpt: ['label=type:a_t', 'seccomp=unconfined', 'label:level:s0:c1,c2'] }),
    ).toEqual(['type:a_t', 'level:s0:c1,c2']);
  });

  it('is refused where the host has no SELinux, naming the option; label=disable is accepted anywhere', () => {
    expect(() => parseSecurityOptions(['label=type:container_t'])).toThrow(
      /--security-opt label=type:container_t: SELinux is not enabled on this host/,
    );
    expect(() => parseSecurityOptions(['label=level:s0:c1,c2'])).toThrow(/SELinux is not enabled/);
    expect(parseSecurityOptions(['label=disable'])).toEqual({});
    expect(parseSecurityOptions(['label:disable'])).toEqual({});
  });

  it.each([
    ['kind:x', /not a label option/],
    ['type', /not a label option/],
    ['type:', /not a label option/],
    ['type:a b', /has a space, quote or control character/],
    ['level:s0",size=1', /has a space, quote or control character/],
    ['type:a:b', /a type has no ":"/],
  ])('refuses label=%s with what is accepted', (value, message) => {
    expect(() => checkLabelOption(value, true)).toThrow(message);
  });

  it('accepts each part where the host runs SELinux', () => {
    modules.selinux = true;
    try {
      expect(
        parseSecurityOptions([
          'label=user:system_u',
          'label=role:system_r',
          'label=type:spc_t',
          'label=level:s0:c1,c2',
          'label=filetype:f_t',
        ]),
      ).toEqual({});
    } finally {
      modules.selinux = false;
    }
  });

  it('reads the container defaults of the policy /etc/selinux/config names, and says which file it lacks', () => {
    expect(readContainerDefaults(root)).toEqual({
      process: { user: 'system_u', role: 'system_r', type: 'container_t', level: 's0' },
      file: { user: 'system_u', role: 'object_r', type: 'container_file_t', level: 's0' },
    });
    const empty = fs.mkdtempSync(path.join(root, 'empty-'));
    expect(() => readContainerDefaults(empty)).toThrow(
      new RegExp(
        `the SELinux policy "targeted" has no container labels \\(${empty}/targeted/contexts/lxc_contexts: ENOENT\\)`,
      ),
    );
  });

  it('labels the process and its mounts with one level of two categories, as InitLabels does', () => {
    const defaults = readContainerDefaults(root);
    expect(containerLabels(['type:container_t'], defaults, new Set(), sequence(9, 3))).toEqual({
      processLabel: 'system_u:system_r:container_t:s0:c3,c9',
      mountLabel: 'system_u:object_r:container_file_t:s0:c3,c9',
    });
    // A given level is both labels'; a type only the process's, a filetype only the mounts'.
    expect(
      containerLabels(
        ['level:s0:c1,c2', 'type:spc_t', 'filetype:f_t', 'user:u', 'role:r'],
        defaults,
        new Set(),
      ),
    ).toEqual({ processLabel: 'u:r:spc_t:s0:c1,c2', mountLabel: 'u:object_r:f_t:s0:c1,c2' });
  });

  it('runs unlabelled without an option or with disable among them', () => {
    const defaults = readContainerDefaults(root);
    expect(containerLabels([], defaults, new Set())).toBeUndefined();
    expect(containerLabels(['type:spc_t', 'disable'], defaults, new Set())).toBeUndefined();
  });

  it('never picks a level another container holds, nor one category twice', () => {
    expect(randomLevel(new Set(['s0:c1,c2']), sequence(2, 1, 5, 5, 7, 4))).toBe('s0:c4,c7');
  });
});
