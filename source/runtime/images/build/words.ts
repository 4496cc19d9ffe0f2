/**
 * Variable substitution and word splitting for Containerfile arguments, as docker's builder does
 * it (buildkit's shell lexer): `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`,
 * `${NAME:+alternative}`, `${NAME+alternative}`, `${NAME:?message}`; single quotes are literal,
 * double quotes keep spaces and still substitute, the escape character (\ or `) quotes the next
 * character. Words are split on whitespace after substitution, except inside quotes.
 */
import { InvalidArgumentError } from '../../errors.js';

export type Variables = ReadonlyMap<string, string>;

const NAME_START = /[A-Za-z_]/;
const NAME_PART = /[A-Za-z0-9_]/;

class Lexer {
  private position = 0;

  constructor(
    private readonly text: string,
    private readonly variables: Variables,
    private readonly escape: string,
    /** Quotes and escapes are ordinary characters; only `$` substitutes (here-document bodies). */
    private readonly raw = false,
  ) {}

  private peek(offset = 0): string | undefined {
    return this.text[this.position + offset];
  }

  /** Words, or the whole text as one word when `split` is false. */
  run(split: boolean): string[] {
    const words: string[] = [];
    let current = '';
    let started = false;
    const push = (): void => {
      if (started) words.push(current);
      current = '';
      started = false;
    };
    const appendUnquoted = (value: string): void => {
      if (!split) {
        current += value;
        started = true;
        return;
      }
      const parts = value.split(/[ \t\r\n]+/);
      parts.forEach((part, index) => {
        if (index > 0) push();
        if (part !== '') {
          current += part;
          started = true;
        }
      });
    };
    while (this.position < this.text.length) {
      const char = this.text[this.position] as string;
      if (split && /[ \t\r\n]/.test(char)) {
        push();
        this.position += 1;
        continue;
      }
      if (char === '$') {
        // An unquoted substitution that comes out empty adds no word.
        appendUnquoted(this.variable());
        continue;
      }
      started = true;
      if (this.raw) {
        if (char === this.escape && this.peek(1) === '$') {
          current += '$';
          this.position += 2;
        } else {
          current += char;
          this.position += 1;
        }
        continue;
      }
      if (char === this.escape) {
        const next = this.peek(1);
        this.position += next === undefined ? 1 : 2;
        current += next ?? char;
        continue;
      }
      if (char === "'") {
        const end = this.text.indexOf("'", this.position + 1);
        if (end < 0)
          throw new InvalidArgumentError(`unterminated single quote in ${JSON.stringify(this.text)}`);
        current += this.text.slice(this.position + 1, end);
        this.position = end + 1;
        continue;
      }
      if (char === '"') {
        current += this.doubleQuoted();
        continue;
      }
      current += char;
      this.position += 1;
    }
    push();
    return words;
  }

  private doubleQuoted(): string {
    let value = '';
    this.position += 1;
    while (this.position < this.text.length) {
      const char = this.text[this.position] as string;
      if (char === '"') {
        this.position += 1;
        return value;
      }
      if (char === this.escape) {
        const next = this.peek(1);
        if (next === '"' || next === '$' || next === this.escape) {
          value += next;
          this.position += 2;
          continue;
        }
      }
      if (char === '$') {
        value += this.variable();
        continue;
      }
      value += char;
      this.position += 1;
    }
    throw new InvalidArgumentError(`unterminated double quote in ${JSON.stringify(this.text)}`);
  }

  /** Expands the variable reference at the current "$". */
  private variable(): string {
    this.position += 1;
    const next = this.peek();
    if (next === '{') return this.braced();
    if (next === undefined || !NAME_START.test(next)) return '$';
    let name = '';
    while (this.peek() !== undefined && NAME_PART.test(this.peek() as string)) {
      name += this.peek();
      this.position += 1;
    }
    return this.variables.get(name) ?? '';
  }

  private braced(): string {
    const open = this.position;
    this.position += 1;
    let name = '';
    while (this.peek() !== undefined && NAME_PART.test(this.peek() as string)) {
      name += this.peek();
      this.position += 1;
    }
    if (name === '')
      throw new InvalidArgumentError(`bad substitution in ${JSON.stringify(this.text)}: "\${" needs a name`);
    let operator = '';
    if (this.peek() === ':') {
      operator = ':';
      this.position += 1;
    }
    const symbol = this.peek();
    if (symbol === '}') {
      if (operator !== '') throw new InvalidArgumentError(`bad substitution in ${JSON.stringify(this.text)}`);
      this.position += 1;
      return this.variables.get(name) ?? '';
    }
    if (symbol !== '-' && symbol !== '+' && symbol !== '?') {
      throw new InvalidArgumentError(
        `unsupported substitution "\${${this.text.slice(open + 1, this.position + 1)}..." in ${JSON.stringify(this.text)}`,
        {
          hint: 'accepted: ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:+value}, ${NAME+value}, ${NAME:?message}',
        },
      );
    }
    operator += symbol;
    this.position += 1;
    // The word runs to the matching brace; it may itself contain substitutions.
    let depth = 1;
    let end = this.position;
    for (; end < this.text.length; end += 1) {
      const char = this.text[end];
      if (char === this.escape) {
        end += 1;
        continue;
      }
      if (char === '{') depth += 1;
      if (char === '}') {
        depth -= 1;
        if (depth === 0) break;
      }
    }
    if (end >= this.text.length)
      throw new InvalidArgumentError(`missing "}" in ${JSON.stringify(this.text)}`);
    const word = new Lexer(this.text.slice(this.position, end), this.variables, this.escape)
      .run(false)
      .join('');
    this.position = end + 1;
    const value = this.variables.get(name);
    const set = value !== undefined;
    const nonEmpty = set && value !== '';
    switch (operator) {
      case ':-':
        return nonEmpty ? value : word;
      case '-':
        return set ? value : word;
      case ':+':
        return nonEmpty ? word : '';
      case '+':
        return set ? word : '';
      default: {
        const ok = operator === ':?' ? nonEmpty : set;
        if (!ok) throw new InvalidArgumentError(`${name}: ${word || 'is not set'}`);
        return value as string;
      }
    }
  }
}

/** Substitutes variables and splits into words (quotes removed). */
export function expandWords(text: string, variables: Variables, escape = '\\'): string[] {
  return new Lexer(text, variables, escape).run(true);
}

/** Substitutes variables in `text` as one word: quotes removed, spaces kept. */
export function expandWord(text: string, variables: Variables, escape = '\\'): string {
  return new Lexer(text, variables, escape).run(false).join('');
}

/** Substitutes variables in a here-document's body: quotes and backslashes stay as written. */
export function expandHeredoc(text: string, variables: Variables, escape = '\\'): string {
  return new Lexer(text, variables, escape, true).run(false).join('');
}
