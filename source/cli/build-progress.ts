/**
 * The words `gantry build` prints for each build event, in one place so the TUI's build view
 * shows exactly what the CLI prints (STEP lines, CACHED, the steps' own output, layer ids,
 * COMMIT). Imported lazily with the builder: it is not part of either start path.
 */
import type { BuildEvent } from '../runtime/images/build/builder.js';

export interface BuildText {
  stream: 'stdout' | 'stderr';
  text: string;
}

/** What the CLI writes for `event`, and where; undefined for events it does not print. */
export function buildEventText(event: BuildEvent): BuildText | undefined {
  switch (event.type) {
    case 'step':
      return { stream: 'stdout', text: `${event.prefix}STEP ${event.step}/${event.total}: ${event.text}\n` };
    case 'cached':
      return { stream: 'stdout', text: `--> CACHED${event.diffId ? ` ${event.diffId.slice(7, 19)}` : ''}\n` };
    case 'output':
      return { stream: event.stream, text: event.text };
    case 'layer':
      return { stream: 'stdout', text: `--> ${event.diffId.slice(7, 19)}\n` };
    case 'warning':
      return { stream: 'stderr', text: `WARNING: ${event.message}\n` };
    case 'commit':
      return { stream: 'stdout', text: `${['COMMIT', ...event.names].join(' ')}\n` };
  }
}

/** The lines that close a successful build: the image's short id, then each tag. */
export function buildDoneText(imageId: string, tags: readonly string[]): string {
  return [`--> ${imageId.slice(7, 19)}\n`, ...tags.map((tag) => `Successfully tagged ${tag}\n`)].join('');
}
