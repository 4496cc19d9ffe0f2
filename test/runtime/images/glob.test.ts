import { describe, expect, it } from 'vitest';
import { globRegex } from '../../../source/runtime/images/build/glob.js';

describe('path wildcards', () => {
  it('match within one component, classes and escapes (COPY, filepath.Match)', () => {
    const regex = globRegex('src/*.[jt]s');
    expect(regex.test('src/main.ts')).toBe(true);
    expect(regex.test('src/lib/main.ts')).toBe(false);
    expect(globRegex('file?.txt').test('file1.txt')).toBe(true);
    expect(globRegex('[!a]x').test('bx')).toBe(true);
    expect(globRegex('[!a]x').test('ax')).toBe(false);
    expect(globRegex('a\\*b').test('a*b')).toBe(true);
    expect(globRegex('a\\*b').test('axb')).toBe(false);
    // Without doubleStar, "**" is two "*": still one component.
    expect(globRegex('**/x').test('a/b/x')).toBe(false);
    // An unterminated class is a literal "[".
    expect(globRegex('a[b').test('a[b')).toBe(true);
  });

  it('cross components with ** where asked (.dockerignore)', () => {
    const regex = globRegex('docs/**/*.md', { doubleStar: true });
    expect(regex.test('docs/readme.md')).toBe(true);
    expect(regex.test('docs/a/b/readme.md')).toBe(true);
    expect(globRegex('build/**', { doubleStar: true }).test('build/out/bin')).toBe(true);
    const refuse = (): never => {
      throw new Error('unterminated');
    };
    expect(() => globRegex('a[b', { unterminatedClass: refuse })).toThrow('unterminated');
  });
});
