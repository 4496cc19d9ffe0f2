/**
 * What docker's `--filter KEY=VALUE` lists have in common across ps, volume, network and prune:
 * values grouped by key (a key may carry `!` to negate, as `label!=`), and label matching (KEY
 * alone: the label is set; KEY=VALUE: set to exactly that). What each key means stays with its
 * command.
 */

/**
 * Groups `values` by key in the order given. `refuse` makes the error for a value that is not
 * KEY=VALUE (key undefined) or whose key is not in `accepted`.
 */
export function groupFilters(
  values: readonly string[],
  accepted: readonly string[],
  refuse: (text: string, key: string | undefined) => Error,
): Map<string, string[]> {
  const filters = new Map<string, string[]>();
  for (const text of values) {
    const match = /^([a-z]+!?)=(.*)$/.exec(text);
    if (!match || !accepted.includes(match[1]!)) throw refuse(text, match?.[1]);
    const [, key, value] = match as unknown as [string, string, string];
    filters.set(key, [...(filters.get(key) ?? []), value]);
  }
  return filters;
}

/** docker's label filter: `KEY` matches a set label, `KEY=VALUE` one set to exactly VALUE. */
export function labelMatches(labels: Record<string, string>, filter: string): boolean {
  const index = filter.indexOf('=');
  if (index < 0) return Object.hasOwn(labels, filter);
  const key = filter.slice(0, index);
  return Object.hasOwn(labels, key) && labels[key] === filter.slice(index + 1);
}
