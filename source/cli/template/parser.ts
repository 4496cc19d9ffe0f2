/**
 * The parser of Go's text/template: actions become pipelines of commands, and if/else if/else,
 * range/else, with/else with/else, break and continue become a tree. Functions are checked when
 * the template is parsed, as Go does, so a typo fails before any container is listed.
 */
import { TemplateError } from './errors.js';
import { lex, type Item, type Token } from './lexer.js';

export type Operand =
  | { kind: 'dot' }
  | { kind: 'field'; chain: string[] } // .A.B, evaluated on dot
  | { kind: 'variable'; name: string; chain: string[] } // $x.A.B
  | { kind: 'group'; pipe: Pipe; chain: string[] } // (pipeline).A
  | { kind: 'function'; name: string }
  | { kind: 'literal'; value: string | number | boolean | null };

export interface Command {
  operands: Operand[];
}

export interface Pipe {
  /** Variables the pipeline declares ($x := ...) or assigns ($x = ...). */
  variables: string[];
  assign: boolean;
  commands: Command[];
  /** The action's text, for error messages. */
  source: string;
}

export interface ControlNode {
  kind: 'if' | 'with' | 'range';
  pipe: Pipe;
  body: Node[];
  otherwise: Node[] | undefined;
}

export type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipe }
  | ControlNode
  | { kind: 'break' | 'continue'; source: string };

type Terminator = { word: 'end' } | { word: 'else'; tokens: Token[]; line: number; source: string };

class Parser {
  private index = 0;
  private rangeDepth = 0;

  constructor(
    private readonly items: Item[],
    private readonly functions: ReadonlySet<string>,
  ) {}

  parseAll(): Node[] {
    const { nodes, end } = this.parseList();
    if (end) {
      const item = this.items[this.index - 1] as Extract<Item, { kind: 'action' }>;
      throw new TemplateError(item.line, `unexpected {{${end.word}}}`);
    }
    return nodes;
  }

  /** Nodes up to an {{end}} or {{else ...}} (returned), or to the end of the template. */
  private parseList(): { nodes: Node[]; end: Terminator | undefined } {
    const nodes: Node[] = [];
    while (this.index < this.items.length) {
      const item = this.items[this.index++]!;
      if (item.kind === 'text') {
        nodes.push({ kind: 'text', text: item.text });
        continue;
      }
      const [first, ...rest] = item.tokens;
      if (first === undefined) throw new TemplateError(item.line, 'missing value for command');
      const word = first.kind === 'identifier' ? (first.value as string) : undefined;
      if (word === 'end') {
        if (rest.length) throw new TemplateError(item.line, 'unexpected tokens in {{end}}');
        return { nodes, end: { word: 'end' } };
      }
      if (word === 'else')
        return { nodes, end: { word: 'else', tokens: rest, line: item.line, source: item.source } };
      if (word === 'if' || word === 'with' || word === 'range') {
        nodes.push(this.parseControl(word, rest, item.line, item.source));
        continue;
      }
      if (word === 'break' || word === 'continue') {
        if (this.rangeDepth === 0) throw new TemplateError(item.line, `{{${word}}} outside {{range}}`);
        if (rest.length) throw new TemplateError(item.line, `unexpected tokens in {{${word}}}`);
        nodes.push({ kind: word, source: item.source });
        continue;
      }
      if (word === 'define' || word === 'template' || word === 'block')
        throw new TemplateError(
          item.line,
          `{{${word}}} is not supported in --format (one template per command line)`,
        );
      nodes.push({ kind: 'action', pipe: this.parsePipe(item.tokens, item.line, item.source, true) });
    }
    return { nodes, end: undefined };
  }

  private parseControl(word: 'if' | 'with' | 'range', tokens: Token[], line: number, source: string): Node {
    const pipe = this.parsePipe(tokens, line, source, true);
    if (word === 'range') this.rangeDepth++;
    const { nodes: body, end } = this.parseList();
    if (word === 'range') this.rangeDepth--;
    if (!end) throw new TemplateError(line, `unexpected EOF: {{${word}}} has no {{end}}`);
    if (end.word === 'end') return { kind: word, pipe, body, otherwise: undefined };
    // {{else if ...}} / {{else with ...}}: a nested control ending at the same {{end}}.
    const [next, ...rest] = end.tokens;
    if (next !== undefined) {
      const chained = next.kind === 'identifier' ? (next.value as string) : undefined;
      if ((chained === 'if' && word === 'if') || (chained === 'with' && word === 'with'))
        return {
          kind: word,
          pipe,
          body,
          otherwise: [this.parseControl(chained, rest, end.line, end.source)],
        };
      throw new TemplateError(end.line, `unexpected tokens in {{else}}: ${end.source}`);
    }
    const { nodes: otherwise, end: last } = this.parseList();
    if (last?.word !== 'end') throw new TemplateError(line, `expected {{end}} for {{${word}}}`);
    return { kind: word, pipe, body, otherwise };
  }

  private parsePipe(tokens: Token[], line: number, source: string, declarations: boolean): Pipe {
    let position = 0;
    const variables: string[] = [];
    let assign = false;
    // $x := ..., $i, $e := ..., $x = ...
    if (declarations && tokens[0]?.kind === 'variable') {
      const names: string[] = [tokens[0].value as string];
      let look = 1;
      if (tokens[1]?.kind === 'comma' && tokens[2]?.kind === 'variable') {
        names.push(tokens[2].value as string);
        look = 3;
      }
      const operator = tokens[look];
      if (operator?.kind === 'declare' || operator?.kind === 'assign') {
        variables.push(...names);
        assign = operator.kind === 'assign';
        position = look + 1;
      }
    }
    const commands: Command[] = [];
    let operands: Operand[] = [];
    const end = (at: number) => {
      if (operands.length === 0)
        throw new TemplateError(
          line,
          at < tokens.length ? 'missing command before |' : 'missing value for command',
        );
      commands.push({ operands });
      operands = [];
    };
    while (position < tokens.length) {
      const token = tokens[position]!;
      if (token.kind === 'pipe') {
        end(position);
        position++;
        continue;
      }
      if (!token.spaced && operands.length > 0 && token.kind !== 'field')
        throw new TemplateError(line, `missing space before ${describe(token)} in ${source}`);
      const { operand, next } = this.parseOperand(tokens, position, line, source);
      operands.push(operand);
      position = next;
    }
    if (commands.length === 0 && operands.length === 0)
      throw new TemplateError(line, `missing value for command in ${source}`);
    end(position);
    return { variables, assign, commands, source };
  }

  private parseOperand(
    tokens: Token[],
    position: number,
    line: number,
    source: string,
  ): { operand: Operand; next: number } {
    const token = tokens[position]!;
    const chainFrom = (start: number) => {
      const chain: string[] = [];
      let at = start;
      while (tokens[at]?.kind === 'field' && !tokens[at]!.spaced) chain.push(tokens[at++]!.value as string);
      return { chain, at };
    };
    switch (token.kind) {
      case 'dot':
        return { operand: { kind: 'dot' }, next: position + 1 };
      case 'field': {
        const { chain, at } = chainFrom(position + 1);
        return { operand: { kind: 'field', chain: [token.value as string, ...chain] }, next: at };
      }
      case 'variable': {
        const { chain, at } = chainFrom(position + 1);
        return { operand: { kind: 'variable', name: token.value as string, chain }, next: at };
      }
      case 'open': {
        let depth = 0;
        let close = position;
        for (; close < tokens.length; close++) {
          if (tokens[close]!.kind === 'open') depth++;
          if (tokens[close]!.kind === 'close' && --depth === 0) break;
        }
        if (close >= tokens.length) throw new TemplateError(line, `unclosed left paren in ${source}`);
        const pipe = this.parsePipe(tokens.slice(position + 1, close), line, source, false);
        const { chain, at } = chainFrom(close + 1);
        return { operand: { kind: 'group', pipe, chain }, next: at };
      }
      case 'identifier': {
        const name = token.value as string;
        if (!this.functions.has(name))
          throw new TemplateError(line, `function ${JSON.stringify(name)} not defined`);
        return { operand: { kind: 'function', name }, next: position + 1 };
      }
      case 'string':
      case 'number':
      case 'bool':
      case 'nil':
        return { operand: { kind: 'literal', value: token.value }, next: position + 1 };
      default:
        throw new TemplateError(line, `unexpected ${describe(token)} in operand`);
    }
  }
}

function describe(token: Token): string {
  return token.kind === 'string' ? JSON.stringify(token.value) : `"${String(token.value)}"`;
}

export function parse(template: string, functions: ReadonlySet<string>): Node[] {
  return new Parser(lex(template), functions).parseAll();
}
