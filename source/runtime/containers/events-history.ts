/**
 * `events --since/--until`: the events of the past, told again from what the state directory
 * keeps (daemonless, there is no event log of a daemon): each container's creation, its current
 * run's start and end from its record, and the lines of its events file (kill, stop, oom, health,
 * and the runs its restart policy ended and started). A container already removed has none.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Engine } from './engine.js';
import { EVENTS_FILE, parseMonitorEvents, type EngineEvent, type EngineEventAction } from './events.js';
import { ZERO_TIME, type ContainerRecord } from './record.js';

function eventsOf(record: ContainerRecord, text: string): EngineEvent[] {
  const events: EngineEvent[] = [];
  const add = (time: number, action: EngineEventAction, extra: Record<string, string> = {}): void => {
    events.push({
      time,
      type: 'container',
      action,
      id: record.Id,
      name: record.Name,
      attributes: { image: record.ImageName, name: record.Name, ...extra },
    });
  };
  const time = (iso: string): number => Date.parse(iso);
  add(time(record.Created), 'create');
  if (record.State.StartedAt !== ZERO_TIME && record.State.StartedAt)
    add(time(record.State.StartedAt), 'start');
  const logged = parseMonitorEvents(text);
  for (const event of logged) {
    if (event.action === 'kill') add(event.time, 'kill', { signal: String(event.count) });
    else if (event.action === 'die') add(event.time, 'die', { exitCode: String(event.count) });
    else if (event.action === 'oom') add(event.time, 'oom', { oomKillCount: String(event.count) });
    else if (event.action === 'health_status')
      add(event.time, `health_status: ${event.status as 'starting' | 'healthy' | 'unhealthy'}`);
    else add(event.time, event.action);
  }
  const finished = time(record.State.FinishedAt);
  const ended = !['running', 'paused', 'created'].includes(record.State.Status);
  // The monitor's own die line of this run, if it wrote one, is the same end.
  if (ended && record.State.FinishedAt !== ZERO_TIME && Number.isFinite(finished)) {
    if (!logged.some((event) => event.action === 'die' && Math.abs(event.time - finished) < 1000))
      add(finished, 'die', { exitCode: String(record.State.ExitCode) });
  }
  return events;
}

/** The events from `since` to `until` (ms since the epoch, both included), oldest first. */
export async function pastEvents(engine: Engine, since: number, until: number): Promise<EngineEvent[]> {
  const { records } = await engine.list({ all: true });
  const events: EngineEvent[] = [];
  for (const record of records) {
    let text = '';
    try {
      text = fs.readFileSync(path.join(engine.containers.dir(record.Id), EVENTS_FILE), 'utf8');
    } catch {
      // No events file: nothing beyond what the record says.
    }
    events.push(...eventsOf(record, text));
  }
  // Stable: events of one moment keep the order they were written in (kill, die, stop).
  return events.filter((event) => event.time >= since && event.time <= until).sort((a, b) => a.time - b.time);
}
