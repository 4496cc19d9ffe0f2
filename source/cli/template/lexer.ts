/**
 * The lexer of Go's text/template as docker's --format uses it: text between actions, and inside
 * each `{{ }}` the tokens of one pipeline. Trim markers (`{{- ` and ` -}}`) and comments are
 * handled here, so the parser sees only text items and the tokens of each action.
 */
import { TemplateError } from './errors.js';

export type TokenKind =
  | 'field' // .Name (the name, without the dot)
  | 'dot' // .
  | 'variable' // $ or $name (the name, with the $)
  | 'identifier' // a function name or keyword
  | 'string'
  | 'number'
  | 'bool'
  | 'nil'
  | 'pipe' // |
  | 'open' // (
  | 'close' // )
  | 'declare' // :=
  | 'assign' // =
  | 'comma';

export interface Token {
  kind: TokenKind;
  /** The token's value: a name, a string's content, a number, a bool. */
  value: string | number | boolean | null;
  /** Whether whitespace came before it (`.A .B` are two operands, `.A.B` one chain). */
  spaced: boolean;
}

export type Item =
  { kind: 'text'; text: string } | { kind: 'action'; tokens: Token[]; line: number; source: string };

const KEYWORDS_BOOL: Record<string, boolean> = { true: true, false: false };

function isSpace(char: string | undefined): boolean {
  return char === ' ' || char === '\t' || char === '\r' || char === '\n';
}

function isIdentifierChar(char: string | undefined): boolean {
  return char !== undefined && /[A-Za-z0-9_]/.test(char);
}

/** Splits a template into text and actions. */
export function lex(template: string): Item[] {
  const items: Item[] = [];
  let position = 0;
  let trimNext = false;
  const lineAt = (offset: number) => template.slice(0, offset).split('\n').length;
  while (position < template.length) {
    const open = template.indexOf('{{', position);
    let text = template.slice(position, open < 0 ? undefined : open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    trimNext = false;
    if (open < 0) {
      if (text) items.push({ kind: 'text', text });
      break;
    }
    let start = open + 2;
    // "{{- " trims the text before; "{{-3}}" is the number -3.
    if (template[start] === '-' && isSpace(template[start + 1])) {
      text = text.replace(/[ \t\r\n]+$/, '');
      start += 2;
    }
    if (text) items.push({ kind: 'text', text });
    const line = lineAt(open);
    const { tokens, end, trimAfter, comment } = lexAction(template, start, line);
    trimNext = trimAfter;
    if (!comment) items.push({ kind: 'action', tokens, line, source: template.slice(open, end) });
    position = end;
  }
  return items;
}

function lexAction(
  template: string,
  start: number,
  line: number,
): { tokens: Token[]; end: number; trimAfter: boolean; comment: boolean } {
  let position = start;
  while (isSpace(template[position])) position++;
  if (template.startsWith('/*', position)) {
    const close = template.indexOf('*/', position + 2);
    if (close < 0) throw new TemplateError(line, 'unclosed comment');
    position = close + 2;
    const rest = /^( -)?\}\}/.exec(template.slice(position));
    if (!rest) throw new TemplateError(line, 'comment ends before closing delimiter');
    return { tokens: [], end: position + rest[0].length, trimAfter: rest[1] !== undefined, comment: true };
  }
  const tokens: Token[] = [];
  let spaced = true;
  const push = (kind: TokenKind, value: Token['value']) => {
    tokens.push({ kind, value, spaced });
    spaced = false;
  };
  while (true) {
    if (position >= template.length) throw new TemplateError(line, 'unclosed action');
    const char = template[position]!;
    if (isSpace(char)) {
      // " -}}" trims the text after the action.
      let after = position;
      while (isSpace(template[after])) after++;
      if (template.startsWith('-}}', after))
        return { tokens, end: after + 3, trimAfter: true, comment: false };
      position = after;
      spaced = true;
      continue;
    }
    if (template.startsWith('}}', position))
      return { tokens, end: position + 2, trimAfter: false, comment: false };
    if (char === '|') {
      push('pipe', '|');
      position++;
    } else if (char === '(') {
      push('open', '(');
      position++;
    } else if (char === ')') {
      push('close', ')');
      position++;
    } else if (char === ',') {
      push('comma', ',');
      position++;
    } else if (template.startsWith(':=', position)) {
      push('declare', ':=');
      position += 2;
    } else if (char === '=') {
      push('assign', '=');
      position++;
    } else if (char === '.') {
      if (isIdentifierChar(template[position + 1]) && !/\d/.test(template[position + 1]!)) {
        let end = position + 1;
        while (isIdentifierChar(template[end])) end++;
        push('field', template.slice(position + 1, end));
        position = end;
      } else if (/\d/.test(template[position + 1] ?? '')) {
        position = lexNumber(template, position, line, push);
      } else {
        push('dot', '.');
        position++;
      }
    } else if (char === '$') {
      let end = position + 1;
      while (isIdentifierChar(template[end])) end++;
      push('variable', template.slice(position, end));
      position = end;
    } else if (char === '"') {
      position = lexQuoted(template, position, line, push);
    } else if (char === '`') {
      const close = template.indexOf('`', position + 1);
      if (close < 0) throw new TemplateError(line, 'unterminated raw quoted string');
      push('string', template.slice(position + 1, close));
      position = close + 1;
    } else if (char === "'") {
      const match = /^'(\\.|[^\\'])'/u.exec(template.slice(position));
      if (!match) throw new TemplateError(line, 'malformed character constant');
      const body = match[1]!;
      const decoded = body.startsWith('\\') ? unescape(body, line) : body;
      push('number', decoded.codePointAt(0)!);
      position += match[0].length;
    } else if (/[0-9+-]/.test(char)) {
      position = lexNumber(template, position, line, push);
    } else if (/[A-Za-z_]/.test(char)) {
      let end = position;
      while (isIdentifierChar(template[end])) end++;
      const word = template.slice(position, end);
      if (word in KEYWORDS_BOOL) push('bool', KEYWORDS_BOOL[word]!);
      else if (word === 'nil') push('nil', null);
      else push('identifier', word);
      position = end;
    } else {
      throw new TemplateError(line, `unexpected ${JSON.stringify(char)} in command`);
    }
  }
}

function lexNumber(
  template: string,
  position: number,
  line: number,
  push: (kind: TokenKind, value: Token['value']) => void,
): number {
  const match = /^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(\d[\d_]*)?\.?\d*([eE][+-]?\d+)?)/.exec(
    template.slice(position),
  );
  const text = match?.[0] ?? '';
  const end = position + text.length;
  if (!text || !/\d/.test(text) || isIdentifierChar(template[end]) || template[end] === '.')
    throw new TemplateError(line, `bad number syntax: ${JSON.stringify(template.slice(position, end + 1))}`);
  const clean = text.replace(/_/g, '');
  const sign = clean.startsWith('-') ? -1 : 1;
  const body = clean.replace(/^[+-]/, '');
  const value = /^0[xXbBoO]/.test(body)
    ? Number(body.toLowerCase().replace(/^0o/, '0o'))
    : /^0\d+$/.test(body)
      ? parseInt(body, 8)
      : Number(body);
  push('number', sign * value);
  return end;
}

function lexQuoted(
  template: string,
  position: number,
  line: number,
  push: (kind: TokenKind, value: Token['value']) => void,
): number {
  let end = position + 1;
  while (true) {
    const char = template[end];
    if (char === undefined || char === '\n') throw new TemplateError(line, 'unterminated quoted string');
    if (char === '\\') {
      end += 2;
      continue;
    }
    if (char === '"') break;
    end++;
  }
  push('string', unescape(template.slice(position + 1, end), line));
  return end + 1;
}

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  '"': '"',
  "'": "'",
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '0': '\0',
};

function unescape(body: string, line: number): string {
  return body.replace(
    /\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{2}|[0-7]{3}|.)/g,
    (_, code: string) => {
      if (/^[uUx]/.test(code)) return String.fromCodePoint(parseInt(code.slice(1), 16));
      if (/^[0-7]{3}$/.test(code)) return String.fromCodePoint(parseInt(code, 8));
      const known = ESCAPES[code];
      if (known === undefined) throw new TemplateError(line, `unknown escape sequence: \\${code}`);
      return known;
    },
  );
}
