import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContainerStore } from '../../../source/runtime/containers/store.js';
import { ZERO_TIME, type ContainerRecord } from '../../../source/runtime/containers/record.js';
import { ConflictError, CorruptStateError, NotFoundError } from '../../../source/runtime/errors.js';
import { StateLayout } from '../../../source/runtime/paths.js';

function record(id: string, name: string): ContainerRecord {
  return {
    Id: id,
    Name: name,
    Created: new Date().toISOString(),
    Image: 'sha256:' + 'a'.repeat(64),
    ImageName: 'demo',
    Config: {
      Hostname: id.slice(0, 12),
      Domainname: '',
      User: '',
      Env: [],
      Cmd: ['true'],
      Entrypoint: [],
      WorkingDir: '',
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      Image: 'demo',
      Labels: {},
      StopSignal: 'SIGTERM',
    },
    HostConfig: {
      Binds: [],
      NetworkMode: 'none',
      AutoRemove: false,
      ReadonlyRootfs: false,
      Privileged: false,
      CapAdd: [],
      CapDrop: [],
      CgroupParent: 'gantry',
      Resources: {},
      Ulimits: [],
    },
    State: {
      Status: 'created',
      Pid: 0,
      ExitCode: 0,
      OOMKilled: false,
      Error: '',
      StartedAt: ZERO_TIME,
      FinishedAt: ZERO_TIME,
    },
    RestartCount: 0,
    Mounts: [],
    LayerDirs: [],
  };
}

describe('container store', () => {
  let root: string;
  let store: ContainerStore;
  const idA = 'a1'.repeat(32);
  const idB = 'a2'.repeat(32);
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-unit-store-'));
    store = new ContainerStore(new StateLayout(root));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  async function add(id: string, name: string) {
    await store.reserveName(name, id);
    fs.mkdirSync(store.dir(id), { recursive: true });
    await store.save(record(id, name));
  }

  it('saves atomically and loads back', async () => {
    await add(idA, 'first');
    expect((await store.load(idA)).Name).toBe('first');
    expect(fs.readdirSync(store.dir(idA)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('resolves by name, full id and unique prefix; says when a prefix is ambiguous', async () => {
    await add(idA, 'first');
    await add(idB, 'second');
    expect(await store.resolveId('first')).toBe(idA);
    expect(await store.resolveId('/second')).toBe(idB);
    expect(await store.resolveId(idA)).toBe(idA);
    expect(await store.resolveId('a1a1')).toBe(idA);
    await expect(store.resolveId('a')).rejects.toBeInstanceOf(ConflictError);
    await expect(store.resolveId('nobody')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('reserves names atomically and frees stale reservations', async () => {
    await add(idA, 'taken');
    await expect(store.reserveName('taken', idB)).rejects.toThrow(/already in use by container/);
    // A reservation whose container directory exists is in use (a create under way, or a
    // container whose record was lost)...
    const owner = 'f'.repeat(64);
    await store.reserveName('stale', owner);
    fs.mkdirSync(store.dir(owner), { recursive: true });
    await expect(store.reserveName('stale', idB)).rejects.toThrow(/already in use/);
    // ...and the engine's judge can say it is being created...
    await expect(store.reserveName('stale', idB, async () => 'creating')).rejects.toThrow(/being created/);
    // ...while one with no directory left is free at once.
    fs.rmdirSync(store.dir(owner));
    await expect(store.reserveName('stale', idB)).resolves.toBeUndefined();
    await store.releaseName('stale', idB);
    expect(fs.existsSync(path.join(root, 'names', 'stale'))).toBe(false);
  });

  it('never makes a removed container directory again by locking it', async () => {
    await add(idA, 'gone');
    fs.rmSync(store.dir(idA), { recursive: true });
    await expect(store.lock(idA, { wait: false })).rejects.toBeInstanceOf(NotFoundError);
    expect(fs.existsSync(store.dir(idA))).toBe(false);
  });

  it('lists damaged records apart instead of failing', async () => {
    await add(idA, 'good');
    await add(idB, 'bad');
    fs.writeFileSync(store.file(idB, 'state.json'), '{not json');
    const { records, damaged } = await store.list();
    expect(records.map((r) => r.Name)).toEqual(['good']);
    expect(damaged.map((d) => d.id)).toEqual([idB]);
    expect(damaged[0]!.error).toBeInstanceOf(CorruptStateError);
  });

  it('locks a container against a second holder until released', async () => {
    await add(idA, 'locked');
    const first = await store.lock(idA, { wait: false });
    expect(first).toBeDefined();
    // flock is per open file description, so a second open in this process contends too.
    const second = await store.lock(idA, { wait: false });
    expect(second).toBeUndefined();
    first!.release();
    const third = await store.lock(idA, { wait: false });
    expect(third).toBeDefined();
    third!.release();
  });

  it('leaves a removal under way alone once its owner has unlinked the lock, and makes no file in it', async () => {
    // The owner (this live process) renamed the directory and its rm -rf has taken the lock
    // file already; a parallel command's sweep must neither delete the rest nor add a lock.
    const doomed = path.join(root, 'tmp', `removing-${idA}-${process.pid}`);
    fs.mkdirSync(path.join(doomed, 'rootfs'), { recursive: true });
    expect(await store.sweepRemovedDirectories()).toBe(0);
    expect(fs.readdirSync(doomed)).toEqual(['rootfs']);
  });

  it('sweeps a removal whose owner died after unlinking the lock', async () => {
    const doomed = path.join(root, 'tmp', `removing-${idA}-999999999`);
    fs.mkdirSync(path.join(doomed, 'rootfs'), { recursive: true });
    expect(await store.sweepRemovedDirectories()).toBe(1);
    expect(fs.existsSync(doomed)).toBe(false);
  });
});
