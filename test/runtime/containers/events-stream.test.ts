/**
 * The event stream's reading of the state directory, with records of the test's own: what it
 * tells of a container that changed several times between two of its looks.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NotFoundError } from '../../../source/runtime/errors.js';
import { watchContainerEvents, type EngineEvent } from '../../../source/runtime/containers/events.js';
import type { ContainerRecord } from '../../../source/runtime/containers/record.js';

// The stream says when it watches (trace 'events: watching'), as the CLI's tests wait for it.
const watching = vi.hoisted(() => {
  let said: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (said = resolve));
  return { promise, said: () => said() };
});
vi.mock('../../../source/runtime/trace.js', () => ({
  trace: (label: string) => {
    if (label === 'events: watching') watching.said();
  },
}));

const ZERO = '0001-01-01T00:00:00Z';
const ID = 'a'.repeat(64);

function record(status: string): ContainerRecord {
  return {
    Id: ID,
    Name: 'short',
    ImageName: 'demo',
    Created: new Date().toISOString(),
    RestartCount: 0,
    State: { Status: status, StartedAt: ZERO, FinishedAt: ZERO, ExitCode: 0 },
    HostConfig: { Resources: {}, AutoRemove: true },
  } as unknown as ContainerRecord;
}

let root: string | undefined;
afterEach(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
  root = undefined;
});

describe('container events from the state directory', () => {
  it('tells start and die, with the kept exit code, of an --rm container that ran and went between two looks', async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-events-'));
    const containersDir = path.join(root, 'containers');
    const load = async (id: string): Promise<ContainerRecord> => {
      try {
        return JSON.parse(
          fs.readFileSync(path.join(containersDir, id, 'state.json'), 'utf8'),
        ) as ContainerRecord;
      } catch {
        throw new NotFoundError(`no container ${id}`);
      }
    };
    const controller = new AbortController();
    const events: EngineEvent[] = [];
    let seen: () => void = () => undefined;
    const stream = (async () => {
      for await (const event of watchContainerEvents(
        { containersDir, load, refresh: async (found) => found },
        { signal: controller.signal },
      )) {
        events.push(event);
        seen();
      }
    })();
    const until = async (action: string) => {
      while (!events.some((event) => event.action === action))
        await new Promise<void>((resolve) => (seen = resolve));
    };
    await watching.promise;
    fs.mkdirSync(path.join(containersDir, ID));
    fs.writeFileSync(path.join(containersDir, ID, 'state.json'), JSON.stringify(record('created')));
    await until('create');
    // In one go, before the stream looks again: it ran, ended with 3, and --rm removed it,
    // keeping its code as the engine does.
    fs.mkdirSync(path.join(root, 'exit-codes'));
    fs.writeFileSync(path.join(root, 'exit-codes', ID), '3\n');
    fs.rmSync(path.join(containersDir, ID), { recursive: true });
    await until('destroy');
    controller.abort();
    await stream;
    expect(events.map((event) => event.action)).toEqual(['create', 'start', 'die', 'destroy']);
    expect(events.find((event) => event.action === 'die')?.attributes?.exitCode).toBe('3');
  });
});
