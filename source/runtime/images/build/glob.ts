/**
 * Path wildcards as docker reads them in COPY sources (Go's filepath.Match) and in
 * .dockerignore (moby/patternmatcher, which adds `**`): `*` and `?` within one path component,
 * `[...]` classes (`!` or `^` negates), `\` takes the next character literally.
 */

export interface GlobOptions {
  /** `**` matches across components and `**` followed by "/" zero or more directories (.dockerignore). */
  doubleStar?: boolean;
  /** Called for a `[` without its `]`; without it the `[` is an ordinary character. */
  unterminatedClass?: () => never;
}

function literal(char: string): string {
  return char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A regular expression that matches a whole path against `pattern`. */
export function globRegex(pattern: string, options: GlobOptions = {}): RegExp {
  let regex = '^';
  for (let index = 0; index < pattern.length; index += 1) {
    const char = pattern[index] as string;
    if (char === '*') {
      if (options.doubleStar && pattern[index + 1] === '*') {
        index += 1;
        // "**/" matches zero or more directories; a trailing "**" everything.
        if (pattern[index + 1] === '/') {
          index += 1;
          regex += '(?:.*/)?';
        } else {
          regex += '.*';
        }
      } else {
        regex += '[^/]*';
      }
    } else if (char === '?') {
      regex += '[^/]';
    } else if (char === '[') {
      const end = pattern.indexOf(']', index + 2);
      if (end < 0) {
        options.unterminatedClass?.();
        regex += '\\[';
        continue;
      }
      let body = pattern.slice(index + 1, end);
      if (body.startsWith('!') || body.startsWith('^')) body = `^${body.slice(1)}`;
      regex += `[${body.replace(/\\/g, '\\\\')}]`;
      index = end;
    } else if (char === '\\' && index + 1 < pattern.length) {
      index += 1;
      regex += literal(pattern[index] as string);
    } else {
      regex += literal(char);
    }
  }
  return new RegExp(`${regex}$`);
}
