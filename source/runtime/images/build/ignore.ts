/**
 * .containerignore / .dockerignore, with docker's matching rules (moby/patternmatcher): one
 * pattern per line, `#` comments, paths relative to the context root (a leading "/" is
 * dropped), `*` and `?` within one component, `**` across any number of them, `[...]` classes,
 * `!` re-includes, the last matching pattern wins, and a pattern that matches a directory
 * matches everything beneath it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { globRegex } from './glob.js';

interface Pattern {
  exclusion: boolean;
  regex: RegExp;
  /** Number of path components the pattern has (to test a path's parents). */
  depth: number;
  text: string;
}

export const IGNORE_FILES = ['.containerignore', '.dockerignore'];

function compile(pattern: string, source: string): RegExp {
  return globRegex(pattern, {
    doubleStar: true,
    unterminatedClass: () => {
      throw new InvalidArgumentError(
        `${source}: unterminated character class in pattern ${JSON.stringify(pattern)}`,
      );
    },
  });
}

export class IgnoreMatcher {
  private readonly patterns: Pattern[];

  constructor(lines: readonly string[], source = '.dockerignore') {
    this.patterns = [];
    for (const raw of lines) {
      let line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const exclusion = line.startsWith('!');
      if (exclusion) line = line.slice(1).trim();
      // filepath.Clean, then relative to the root.
      line = path.posix.normalize(line).replace(/^\/+/, '').replace(/\/+$/, '');
      if (line === '' || line === '.') continue;
      this.patterns.push({
        exclusion,
        regex: compile(line, source),
        depth: line.split('/').length,
        text: line,
      });
    }
  }

  /** Whether any pattern re-includes paths (then an ignored directory must still be walked). */
  get hasExclusions(): boolean {
    return this.patterns.some((pattern) => pattern.exclusion);
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** Whether `relative` (a path inside the context, "/" separated, no leading "/") is ignored. */
  ignores(relative: string): boolean {
    const components = relative.split('/');
    let ignored = false;
    for (const pattern of this.patterns) {
      let match = pattern.regex.test(relative);
      if (!match && pattern.depth < components.length) {
        match = pattern.regex.test(components.slice(0, pattern.depth).join('/'));
      }
      if (match) ignored = !pattern.exclusion;
    }
    return ignored;
  }

  /** Reads the context's ignore file (.containerignore, else .dockerignore); empty when none. */
  static load(contextDirectory: string): IgnoreMatcher {
    for (const name of IGNORE_FILES) {
      const file = path.join(contextDirectory, name);
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      return new IgnoreMatcher(text.split('\n'), name);
    }
    return new IgnoreMatcher([]);
  }
}
