/**
 * The functions a --format template can call: Go's text/template builtins (and, or, not, len,
 * index, slice, print, printf, println, eq, ne, lt, le, gt, ge, html, js, urlquery, call) and
 * docker's own (json, split, join, title, lower, upper, pad, truncate), with Go's printing of
 * values (`[a b]` for lists, `map[k:v]` for maps) so a script's output matches docker's.
 */
import { TemplateExecError } from './errors.js';

export type TemplateFunction = (...args: unknown[]) => unknown;

/** Go's %v of a value decoded from JSON. */
export function goValue(value: unknown, nested = false): string {
  if (value === undefined || value === null) return nested ? '<nil>' : '<no value>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return goNumber(value);
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `[${value.map((item) => goValue(item, true)).join(' ')}]`;
  if (typeof value === 'function') return '<func>';
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => typeof item !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `map[${entries.map(([key, item]) => `${key}:${goValue(item, true)}`).join(' ')}]`;
}

function goNumber(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return String(value);
  // Go's %v of a float64 (%g, shortest): exponents have at least two digits.
  return String(value).replace(/e([+-])(\d)$/, 'e$10$2');
}

/** Go's truth of a value: false, 0, nil, and empty strings, lists and maps are false. */
export function truth(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') return value.length > 0;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

function goType(value: unknown): string {
  if (value === undefined || value === null) return '<nil>';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float64';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return '[]interface {}';
  if (typeof value === 'function') return 'func';
  return 'map[string]interface {}';
}

function fail(name: string, message: string): never {
  throw new TemplateExecError(name, `error calling ${name}: ${message}`);
}

function arity(name: string, args: unknown[], count: number): void {
  if (args.length !== count) fail(name, `wrong number of args for ${name}: want ${count} got ${args.length}`);
}

function integer(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value))
    fail(name, `cannot index with ${goType(value)} ${goValue(value)}: want an integer`);
  return value;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : goValue(value);
}

/** fmt.Sprint: spaces go between operands when neither side is a string. */
function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((arg, position) => {
    if (position > 0 && typeof arg !== 'string' && typeof args[position - 1] !== 'string') out += ' ';
    out += goValue(arg, true);
  });
  return out;
}

function comparable(name: string, a: unknown, b: unknown): void {
  const kind = (value: unknown) => (value === null || value === undefined ? 'nil' : typeof value);
  if (typeof a === 'object' && a !== null) fail(name, `non-comparable type ${goValue(a)}: ${goType(a)}`);
  if (typeof b === 'object' && b !== null) fail(name, `non-comparable type ${goValue(b)}: ${goType(b)}`);
  if (kind(a) !== kind(b) && kind(a) !== 'nil' && kind(b) !== 'nil')
    fail(name, 'incompatible types for comparison');
}

function ordered(name: string, a: unknown, b: unknown): [number | string, number | string] {
  comparable(name, a, b);
  if ((typeof a !== 'number' && typeof a !== 'string') || (typeof b !== 'number' && typeof b !== 'string'))
    fail(name, `invalid type for comparison`);
  return [a, b];
}

function sequence(name: string, value: unknown): string | unknown[] {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  return fail(name, `can't index item of type ${goType(value)}`);
}

function titleCase(value: string): string {
  // strings.Title: a letter that follows a separator (anything but a letter, digit, _ or ') is upper-cased.
  return value.replace(
    /(^|[^\p{L}\p{N}_'])(\p{L})/gu,
    (_, before: string, letter: string) => before + letter.toUpperCase(),
  );
}

/** Go's builtins and docker's template functions. */
export const FUNCTIONS: Record<string, TemplateFunction> = {
  // and/or are evaluated lazily by the executor; these are the same rules for values in hand.
  and: (...args) => args.find((arg) => !truth(arg)) ?? args[args.length - 1],
  or: (...args) => args.find((arg) => truth(arg)) ?? args[args.length - 1],
  not: (...args) => {
    arity('not', args, 1);
    return !truth(args[0]);
  },
  len: (...args) => {
    arity('len', args, 1);
    const [value] = args;
    if (typeof value === 'string') return Buffer.byteLength(value);
    if (Array.isArray(value)) return value.length;
    if (value !== null && typeof value === 'object') return Object.keys(value).length;
    return fail('len', `len of type ${goType(value)}`);
  },
  index: (...args) => {
    if (args.length === 0) fail('index', 'wrong number of args for index: want at least 1 got 0');
    let [item] = args;
    for (const key of args.slice(1)) {
      if (item === null || item === undefined) fail('index', 'index of untyped nil');
      if (Array.isArray(item) || typeof item === 'string') {
        const at = integer('index', key);
        if (at < 0 || at >= item.length) fail('index', `index out of range: ${at}`);
        item = typeof item === 'string' ? item.charCodeAt(at) : item[at];
      } else if (typeof item === 'object') {
        item = (item as Record<string, unknown>)[text(key)];
      } else {
        fail('index', `can't index item of type ${goType(item)}`);
      }
    }
    return item;
  },
  slice: (...args) => {
    if (args.length === 0 || args.length > 4)
      fail('slice', `wrong number of args for slice: got ${args.length}`);
    const item = sequence('slice', args[0]);
    const bounds = args.slice(1).map((arg) => integer('slice', arg));
    const [from = 0, to = item.length] = bounds;
    if (from < 0 || to < from || to > item.length) fail('slice', `index out of range: ${from}:${to}`);
    return item.slice(from, to);
  },
  print: (...args) => sprint(args),
  println: (...args) => `${args.map((arg) => goValue(arg, true)).join(' ')}\n`,
  printf: (...args) => {
    if (args.length === 0) fail('printf', 'wrong number of args for printf: want at least 1 got 0');
    return sprintf(text(args[0]), args.slice(1));
  },
  eq: (...args) => {
    if (args.length < 2) fail('eq', `missing argument for comparison`);
    const [first, ...rest] = args;
    return rest.some((other) => {
      comparable('eq', first, other);
      return (first ?? null) === (other ?? null);
    });
  },
  ne: (...args) => {
    arity('ne', args, 2);
    comparable('ne', args[0], args[1]);
    return (args[0] ?? null) !== (args[1] ?? null);
  },
  lt: (...args) => {
    arity('lt', args, 2);
    const [a, b] = ordered('lt', args[0], args[1]);
    return a < b;
  },
  le: (...args) => {
    arity('le', args, 2);
    const [a, b] = ordered('le', args[0], args[1]);
    return a <= b;
  },
  gt: (...args) => {
    arity('gt', args, 2);
    const [a, b] = ordered('gt', args[0], args[1]);
    return a > b;
  },
  ge: (...args) => {
    arity('ge', args, 2);
    const [a, b] = ordered('ge', args[0], args[1]);
    return a >= b;
  },
  html: (...args) =>
    sprint(args).replace(
      /[&<>"'\0]/g,
      (char) =>
        ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;', '\0': '\uFFFD' })[char]!,
    ),
  js: (...args) =>
    // eslint-disable-next-line no-control-regex -- Go's js escapes control characters
    sprint(args).replace(/[\\'"<>&=\n\r\t\x00-\x1f]/g, (char) => {
      const named: Record<string, string> = {
        '\\': '\\\\',
        "'": "\\'",
        '"': '\\"',
        '\n': '\\n',
        '\r': '\\r',
        '\t': '\\t',
      };
      return named[char] ?? `\\u${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    }),
  urlquery: (...args) =>
    encodeURIComponent(sprint(args))
      .replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
      .replace(/%20/g, '+'),
  call: (...args) => {
    const [target, ...rest] = args;
    if (typeof target !== 'function') fail('call', `non-function of type ${goType(target)}`);
    return (target as TemplateFunction)(...rest);
  },
  // docker's functions (cli/templates/templates.go).
  json: (...args) => {
    arity('json', args, 1);
    return JSON.stringify(args[0]) ?? 'null';
  },
  split: (...args) => {
    arity('split', args, 2);
    return text(args[0]).split(text(args[1]));
  },
  join: (...args) => {
    arity('join', args, 2);
    if (!Array.isArray(args[0]))
      fail('join', `wrong type for value; expected []string; got ${goType(args[0])}`);
    return args[0].map((item) => goValue(item, true)).join(text(args[1]));
  },
  title: (...args) => {
    arity('title', args, 1);
    return titleCase(text(args[0]));
  },
  lower: (...args) => {
    arity('lower', args, 1);
    return text(args[0]).toLowerCase();
  },
  upper: (...args) => {
    arity('upper', args, 1);
    return text(args[0]).toUpperCase();
  },
  pad: (...args) => {
    arity('pad', args, 3);
    const source = text(args[0]);
    if (source === '') return source;
    return ' '.repeat(integer('pad', args[1])) + source + ' '.repeat(integer('pad', args[2]));
  },
  truncate: (...args) => {
    arity('truncate', args, 2);
    const source = text(args[0]);
    const length = integer('truncate', args[1]);
    return source.length < length ? source : source.slice(0, length);
  },
};

/**
 * docker renders a table's header row with the same template over the column titles, its own
 * functions passing the title through unchanged (HeaderFunctions).
 */
export const HEADER_FUNCTIONS: Record<string, TemplateFunction> = {
  ...FUNCTIONS,
  ...Object.fromEntries(
    ['json', 'split', 'join', 'title', 'lower', 'upper', 'pad', 'truncate'].map((name) => [
      name,
      (...args: unknown[]) => args[0],
    ]),
  ),
};

/** fmt.Sprintf for the verbs scripts use: %v %s %q %d %f %e %g %x %X %o %b %t %c %T %%. */
export function sprintf(format: string, args: unknown[]): string {
  let next = 0;
  const out = format.replace(
    /%([-+# 0]*)(\d+)?(?:\.(\d*))?([a-zA-Z%])/g,
    (
      whole,
      flags: string,
      widthText: string | undefined,
      precisionText: string | undefined,
      verb: string,
    ) => {
      if (verb === '%') return '%';
      if (next >= args.length) return `%!${verb}(MISSING)`;
      const arg = args[next++];
      const precision = precisionText === undefined ? undefined : Number(precisionText || '0');
      let body = formatVerb(verb, flags, precision, arg);
      const width = widthText === undefined ? 0 : Number(widthText);
      if (body.length < width) {
        if (flags.includes('-')) body = body.padEnd(width);
        else if (flags.includes('0') && typeof arg === 'number') {
          const sign = /^[+-]/.test(body) ? body[0]! : '';
          body = sign + body.slice(sign.length).padStart(width - sign.length, '0');
        } else body = body.padStart(width);
      }
      void whole;
      return body;
    },
  );
  if (next < args.length)
    return `${out}%!(EXTRA ${args
      .slice(next)
      .map((arg) => `${goType(arg)}=${goValue(arg, true)}`)
      .join(', ')})`;
  return out;
}

function formatVerb(verb: string, flags: string, precision: number | undefined, arg: unknown): string {
  const sign = (value: number, body: string) =>
    value >= 0 && flags.includes('+') ? `+${body}` : value >= 0 && flags.includes(' ') ? ` ${body}` : body;
  const bad = () => `%!${verb}(${goType(arg)}=${goValue(arg, true)})`;
  switch (verb) {
    case 'v':
      return goValue(arg, true);
    case 's': {
      if (typeof arg === 'number' || typeof arg === 'boolean') return bad();
      const body = typeof arg === 'string' ? arg : goValue(arg, true);
      return precision === undefined ? body : body.slice(0, precision);
    }
    case 'q':
      if (typeof arg === 'string') return JSON.stringify(arg);
      if (typeof arg === 'number') return `'${String.fromCodePoint(arg)}'`;
      return bad();
    case 'd':
      return typeof arg === 'number' && Number.isInteger(arg) ? sign(arg, String(arg)) : bad();
    case 'f':
    case 'F':
      return typeof arg === 'number' ? sign(arg, arg.toFixed(precision ?? 6)) : bad();
    case 'e':
      return typeof arg === 'number'
        ? sign(arg, arg.toExponential(precision ?? 6).replace(/e([+-])(\d)$/, 'e$10$2'))
        : bad();
    case 'g':
      return typeof arg === 'number'
        ? sign(arg, precision === undefined ? goNumber(arg) : String(Number(arg.toPrecision(precision || 1))))
        : bad();
    case 'x':
    case 'X': {
      let body: string;
      if (typeof arg === 'number' && Number.isInteger(arg)) body = arg.toString(16);
      else if (typeof arg === 'string') body = Buffer.from(arg).toString('hex');
      else return bad();
      if (flags.includes('#')) body = `0x${body}`;
      return verb === 'X' ? body.toUpperCase() : body;
    }
    case 'o':
      return typeof arg === 'number' && Number.isInteger(arg) ? arg.toString(8) : bad();
    case 'b':
      return typeof arg === 'number' && Number.isInteger(arg) ? arg.toString(2) : bad();
    case 't':
      return typeof arg === 'boolean' ? String(arg) : bad();
    case 'c':
      return typeof arg === 'number' ? String.fromCodePoint(arg) : bad();
    case 'T':
      return goType(arg);
    default:
      return `%!${verb}(${goType(arg)}=${goValue(arg, true)})`;
  }
}
