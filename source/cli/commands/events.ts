/** `gantry events`: container events as they happen, and (--since/--until) those of the past. */
import { bool, list, str, UsageError, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { renderTemplate } from '../template.js';
import type { EngineEvent } from '../../runtime/containers/events.js';

export const spec: CommandSpec = {
  name: 'events',
  usage: 'events [OPTIONS]',
  description: 'Get real time events from the engine (until interrupted)',
  maxArgs: 0,
  options: [
    { name: 'json', type: 'boolean', description: 'Print each event as one line of JSON' },
    {
      name: 'format',
      type: 'string',
      description: 'Format each event with a template, e.g. "{{.action}} {{.name}}"',
    },
    {
      name: 'since',
      type: 'string',
      description:
        'Show events since a timestamp (RFC 3339, unix seconds) or relative time (e.g. 10m): those the state directory keeps',
    },
    { name: 'until', type: 'string', description: 'Stream events until this timestamp or relative time' },
    {
      name: 'filter',
      short: 'f',
      type: 'list',
      description:
        'Only events that match: container=NAME|ID, event=ACTION, type=container (repeat to widen)',
    },
  ],
};

const ISO_NANOS = (time: number): string => new Date(time).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');

/** docker's line: "2024-05-01T10:00:00.123000000Z container start ID (image=demo, name=web)". */
export function eventLine(event: EngineEvent): string {
  const attributes = Object.entries(event.attributes ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
  return `${ISO_NANOS(event.time)} ${event.type} ${event.action} ${event.id}${attributes ? ` (${attributes})` : ''}`;
}

function matcher(filters: readonly string[]): (event: EngineEvent) => boolean {
  const containers: string[] = [];
  const actions: string[] = [];
  for (const filter of filters) {
    const [key, value] = [filter.slice(0, filter.indexOf('=')), filter.slice(filter.indexOf('=') + 1)];
    if (filter.indexOf('=') < 0 || value === '') {
      throw new UsageError(
        `invalid filter ${JSON.stringify(filter)}: write KEY=VALUE with KEY container or event`,
      );
    }
    if (key === 'container') containers.push(value);
    else if (key === 'event') actions.push(value);
    else if (key === 'type') {
      // Every event here is a container's.
      if (value !== 'container')
        throw new UsageError(`invalid filter ${JSON.stringify(filter)}: only container events exist here`);
    } else
      throw new UsageError(
        `invalid filter key ${JSON.stringify(key)}: accepted are container, event and type`,
      );
  }
  return (event) =>
    (containers.length === 0 || containers.some((c) => c === event.name || event.id.startsWith(c))) &&
    // As docker's: event=health_status matches "health_status: healthy".
    (actions.length === 0 || actions.some((a) => a === event.action || a === event.action.split(':')[0]));
}

/**
 * What a --format template sees: the event as --json prints it, plus docker's field names
 * (`.Action`, `.Actor.Attributes.name`, `.ID`, `.Status`, `.Type`, `.From`, `.Time`,
 * `.TimeNano`), so docker's templates work unchanged.
 */
export function templateEvent(event: EngineEvent): Record<string, unknown> {
  const attributes = event.attributes ?? {};
  return {
    ...event,
    attributes,
    Type: event.type,
    Action: event.action,
    Status: event.action,
    ID: event.id,
    id: event.id,
    From: attributes.image ?? '',
    Actor: { ID: event.id, Attributes: attributes },
    Time: Math.floor(event.time / 1000),
    TimeNano: event.time * 1_000_000,
  };
}

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const matches = matcher(list(parsed.options, 'filter'));
  const json = bool(parsed.options, 'json');
  const format = str(parsed.options, 'format');
  const sinceText = str(parsed.options, 'since');
  const untilText = str(parsed.options, 'until');
  const now = Date.now();
  const { parseSince } = await import('../../runtime/containers/logs.js');
  const since = sinceText === undefined ? undefined : parseSince(sinceText, now).getTime();
  const until = untilText === undefined ? undefined : parseSince(untilText, now).getTime();
  const print = (event: EngineEvent): void => {
    if (!matches(event)) return;
    if (json) write(context.stdout, JSON.stringify(event));
    else if (format !== undefined)
      // Attributes differ between actions (exitCode only on die): a missing one is <no value>,
      // as in docker's templates, never the end of the stream.
      write(
        context.stdout,
        format === 'json'
          ? JSON.stringify(event)
          : renderTemplate(format, templateEvent(event), { missing: 'no-value' }),
      );
    else write(context.stdout, eventLine(event));
  };
  // The past is read from the host's own journal: it tells it itself.
  if ((since !== undefined || until !== undefined) && context.host !== undefined && context.relay)
    return context.relay();
  const engine = await context.hostEngine();
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  context.stdout.on('error', stop);
  // The stream ends at --until; one in the past ends it once the past is told.
  const timer = until !== undefined && until > now ? setTimeout(stop, until - now) : undefined;
  try {
    const live =
      until === undefined || until > now ? engine.events({ signal: controller.signal }) : undefined;
    // As docker's: --until alone tells the past up to it.
    if (since !== undefined || until !== undefined) {
      const { pastEvents } = await import('../../runtime/containers/events-history.js');
      for (const event of await pastEvents(await context.engine(), since ?? 0, Math.min(until ?? now, now)))
        print(event);
    }
    if (live)
      for await (const event of live) {
        if (until !== undefined && event.time > until) break;
        print(event);
      }
  } finally {
    if (timer) clearTimeout(timer);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}
