/**
 * `kube generate`'s pod-level namespace fields, from records (no engine): a played pod's
 * hostNetwork, hostPID and hostIPC are its infra container's; containers of no pod are in one of
 * the host's namespaces when all of them are, and one alone there is noted, never dropped silently;
 * the pod's hostname, but not the host's.
 */
import { describe, expect, it } from 'vitest';
import type { ContainerRecord, HostConfig } from '../../../source/runtime/containers/record.js';
import { generateManifest, type GenerateInput } from '../../../source/runtime/kube/generate.js';
import type { KubePod } from '../../../source/runtime/kube/types.js';
import { container } from '../../tui/support/fixtures.js';

function record(name: string, modes: Partial<HostConfig> = {}): ContainerRecord {
  const made = container(name, { status: 'created' });
  Object.assign(made.HostConfig, modes);
  return made;
}

function generate(members: ContainerRecord[], portOwner?: ContainerRecord) {
  const input: GenerateInput = {
    podName: 'box-pod',
    members: members.map((member) => ({ record: member, image: {} })),
    ...(portOwner ? { portOwner } : {}),
    kind: 'pod',
    hostPathType: () => undefined,
  };
  const { manifest, notes } = generateManifest(input);
  const { hostNetwork, hostPID, hostIPC, hostname } = (manifest as KubePod).spec;
  return { fields: { hostNetwork, hostPID, hostIPC }, hostname, notes };
}

describe('kube generate: the host namespaces of a pod', () => {
  it("says hostPID and hostIPC for a container in the host's pid and ipc namespaces", () => {
    const { fields, notes } = generate([record('box', { PidMode: 'host', IpcMode: 'host' })]);
    expect(fields).toEqual({ hostNetwork: undefined, hostPID: true, hostIPC: true });
    expect(notes.filter((note) => note.includes('host'))).toEqual([]);
  });

  it('says nothing of them for containers in namespaces of their own', () => {
    const { fields } = generate([record('box', { IpcMode: 'private' }), record('other')]);
    expect(fields).toEqual({ hostNetwork: undefined, hostPID: undefined, hostIPC: undefined });
  });

  it('notes a container alone in a host namespace, since a Pod cannot put only some there', () => {
    const { fields, notes } = generate([
      record('box', { PidMode: 'host', NetworkMode: 'host' }),
      record('other'),
    ]);
    expect(fields).toEqual({ hostNetwork: undefined, hostPID: undefined, hostIPC: undefined });
    expect(notes).toContain('box: --network host: a Pod puts all its containers there (hostNetwork) or none');
    expect(notes).toContain('box: --pid host: a Pod puts all its containers there (hostPID) or none');
  });

  it("takes a played pod's from its infra container", () => {
    const infra = record('box-pod-infra', { PidMode: 'host', IpcMode: 'host', NetworkMode: 'host' });
    const member = record('box-pod-box', {
      PidMode: 'host',
      IpcMode: 'host',
      NetworkMode: `container:${infra.Id}`,
    });
    expect(generate([member], infra).fields).toEqual({ hostNetwork: true, hostPID: true, hostIPC: true });
    const own = record('box-pod-infra');
    const joined = record('box-pod-box', { IpcMode: `container:${own.Id}`, PidMode: `container:${own.Id}` });
    expect(generate([joined], own).fields).toEqual({
      hostNetwork: undefined,
      hostPID: undefined,
      hostIPC: undefined,
    });
  });

  it("writes the pod's own hostname, never the host's that a hostNetwork pod's uts namespace has", () => {
    const infra = record('box-pod-infra', { NetworkMode: 'host', UTSMode: 'host' });
    infra.Config.Hostname = 'the-host';
    const member = record('box-pod-box', { NetworkMode: `container:${infra.Id}`, UTSMode: 'host' });
    expect(generate([member], infra)).toMatchObject({ fields: { hostNetwork: true }, hostname: undefined });
    const own = record('box-pod-infra');
    own.Config.Hostname = 'named';
    const joined = record('box-pod-box', { UTSMode: `container:${own.Id}` });
    expect(generate([joined], own).hostname).toBe('named');
    own.Config.Hostname = 'box-pod';
    expect(generate([joined], own).hostname).toBeUndefined();
  });
});
