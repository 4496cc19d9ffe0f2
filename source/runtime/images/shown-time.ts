/**
 * The time shown for an image and its history entries (image inspect, image history, image tree,
 * the TUI's Layers pane).
 */
import type { ImageRecord } from './types.js';

/**
 * A time at the Unix epoch is the placeholder of a reproducible build (`image from-host` keeps it
 * in the config so that the same files give the same image ID), not when anything was made: the
 * image's record says when it was made here. Any other time is shown as it is.
 */
export function shownTime(time: string | undefined, image: ImageRecord): string | undefined {
  return time !== undefined && Date.parse(time) === 0 ? image.created : time;
}
