/**
 * Executes a parsed template on a value decoded from JSON, with Go's rules: dot and variables,
 * pipes (the value before `|` is the last argument of the next command), if/with/range with
 * else, break/continue, lazy and/or, and fields that are functions (docker's `.Label "key"`).
 */
import { TemplateExecError } from './errors.js';
import { goValue, truth, type TemplateFunction } from './functions.js';
import type { Command, ControlNode, Node, Operand, Pipe } from './parser.js';

export interface ExecOptions {
  /**
   * What a field the row does not have gives: "error" (docker's typed rows: ps, images, stats,
   * events) or "<no value>" (docker inspect, which falls back to the raw JSON map). Below the
   * row's own fields are maps (labels, attributes), where a missing key is <no value>.
   */
  missing: 'error' | 'no-value';
  functions: Record<string, TemplateFunction>;
  /** Rendering a table's header: fields of titles, so `.Names.Foo` stays the title. */
  header?: boolean;
}

class Break {}
class Continue {}
const NONE = Symbol('no piped value');

export class Executor {
  private readonly variables: { name: string; value: unknown }[];
  private readonly output: string[] = [];

  constructor(
    private readonly root: unknown,
    private readonly options: ExecOptions,
  ) {
    this.variables = [{ name: '$', value: root }];
  }

  run(nodes: Node[]): string {
    this.walk(this.root, nodes);
    return this.output.join('');
  }

  private walk(dot: unknown, nodes: Node[]): void {
    const mark = this.variables.length;
    try {
      for (const node of nodes) this.node(dot, node);
    } finally {
      this.variables.length = mark;
    }
  }

  private node(dot: unknown, node: Node): void {
    switch (node.kind) {
      case 'text':
        this.output.push(node.text);
        return;
      case 'action': {
        const value = this.pipe(dot, node.pipe);
        if (node.pipe.variables.length === 0) this.output.push(goValue(value));
        return;
      }
      case 'break':
        throw new Break();
      case 'continue':
        throw new Continue();
      case 'if':
      case 'with': {
        const mark = this.variables.length;
        try {
          const value = this.pipe(dot, node.pipe);
          if (truth(value)) this.walk(node.kind === 'with' ? value : dot, node.body);
          else if (node.otherwise) this.walk(dot, node.otherwise);
        } finally {
          this.variables.length = mark;
        }
        return;
      }
      case 'range':
        this.range(dot, node);
        return;
    }
  }

  private range(dot: unknown, node: ControlNode): void {
    const value = this.pipe(dot, { ...node.pipe, variables: [] });
    let entries: [unknown, unknown][];
    if (value === undefined || value === null) entries = [];
    else if (Array.isArray(value)) entries = value.map((item, index) => [index, item]);
    else if (typeof value === 'number' && Number.isInteger(value))
      entries = Array.from({ length: Math.max(0, value) }, (_, index) => [index, index]);
    else if (typeof value === 'object')
      entries = Object.keys(value)
        .sort()
        .map((key) => [key, (value as Record<string, unknown>)[key]]);
    else throw new TemplateExecError(node.pipe.source, `range can't iterate over ${goValue(value)}`);
    if (entries.length === 0) {
      if (node.otherwise) this.walk(dot, node.otherwise);
      return;
    }
    const [first, second] = node.pipe.variables;
    for (const [key, item] of entries) {
      const mark = this.variables.length;
      if (second !== undefined) {
        this.declare(first!, key, node.pipe.assign);
        this.declare(second, item, node.pipe.assign);
      } else if (first !== undefined) this.declare(first, item, node.pipe.assign);
      try {
        this.walk(item, node.body);
      } catch (signal) {
        if (signal instanceof Break) break;
        if (!(signal instanceof Continue)) throw signal;
      } finally {
        this.variables.length = mark;
      }
    }
  }

  private declare(name: string, value: unknown, assign: boolean): void {
    if (!assign) {
      this.variables.push({ name, value });
      return;
    }
    const variable = this.lookupVariable(name);
    variable.value = value;
  }

  private lookupVariable(name: string): { name: string; value: unknown } {
    for (let index = this.variables.length - 1; index >= 0; index--)
      if (this.variables[index]!.name === name) return this.variables[index]!;
    throw new TemplateExecError(name, `undefined variable: ${name}`);
  }

  private pipe(dot: unknown, pipe: Pipe): unknown {
    let value: unknown = NONE;
    for (const command of pipe.commands) value = this.command(dot, command, value, pipe.source);
    for (const name of pipe.variables) this.declare(name, value, pipe.assign);
    return value;
  }

  private command(dot: unknown, command: Command, piped: unknown, source: string): unknown {
    const [first, ...rest] = command.operands;
    const final = piped === NONE ? [] : [piped];
    if (first!.kind === 'function') {
      const name = first!.name;
      if (name === 'and' || name === 'or') return this.andOr(dot, name, rest, final, source);
      const fn = this.options.functions[name]!;
      const args = [...rest.map((operand) => this.operand(dot, operand, source)), ...final];
      return fn(...args);
    }
    if (rest.length === 0 && final.length === 0) return this.operand(dot, first!, source);
    // An operand given arguments must be a function: docker's `.Label "key"`.
    const target = this.operand(dot, first!, source, false);
    if (typeof target !== 'function')
      throw new TemplateExecError(source, `can't give argument to non-function ${describeOperand(first!)}`);
    return (target as TemplateFunction)(
      ...rest.map((operand) => this.operand(dot, operand, source)),
      ...final,
    );
  }

  private andOr(dot: unknown, name: string, operands: Operand[], final: unknown[], source: string): unknown {
    if (operands.length + final.length === 0)
      throw new TemplateExecError(source, `wrong number of args for ${name}: want at least 1 got 0`);
    let value: unknown;
    const thunks = [
      ...operands.map((operand) => () => this.operand(dot, operand, source)),
      ...final.map((v) => () => v),
    ];
    for (const thunk of thunks) {
      value = thunk();
      if (name === 'and' ? !truth(value) : truth(value)) return value;
    }
    return value;
  }

  /** An operand's value; a field that is a function is called unless `call` is false. */
  private operand(dot: unknown, operand: Operand, source: string, call = true): unknown {
    switch (operand.kind) {
      case 'dot':
        return dot;
      case 'literal':
        return operand.value;
      case 'function':
        return this.options.functions[operand.name]!();
      case 'field':
        return this.chain(dot, operand.chain, source, call);
      case 'variable':
        return this.chain(this.lookupVariable(operand.name).value, operand.chain, source, call);
      case 'group':
        return this.chain(this.pipe(dot, operand.pipe), operand.chain, source, call);
    }
  }

  private chain(receiver: unknown, chain: string[], source: string, call: boolean): unknown {
    let current = receiver;
    chain.forEach((name, position) => {
      current = this.field(current, name, source);
      const last = position === chain.length - 1;
      if (typeof current === 'function' && (!last || call)) current = (current as TemplateFunction)();
    });
    return current;
  }

  private field(receiver: unknown, name: string, source: string): unknown {
    if (receiver === undefined || receiver === null) return undefined;
    if (typeof receiver !== 'object' || Array.isArray(receiver)) {
      if (this.options.header) return receiver;
      throw new TemplateExecError(
        `.${name}`,
        `can't evaluate field ${name} in type ${Array.isArray(receiver) ? '[]interface {}' : typeof receiver === 'number' ? 'int' : typeof receiver}`,
      );
    }
    const record = receiver as Record<string, unknown>;
    if (Object.prototype.hasOwnProperty.call(record, name)) return record[name];
    // docker's structs answer to their Go names (.ID) and the raw JSON to its keys (.Id).
    const lower = name.toLowerCase();
    const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === lower);
    if (key !== undefined) return record[key];
    if (this.options.missing === 'error' && receiver === this.root && !this.options.header)
      throw new TemplateExecError(
        `.${name}`,
        `no field ${JSON.stringify(name)}`,
        `the fields here are: ${Object.keys(record).join(', ')}`,
      );
    void source;
    return undefined;
  }
}

function describeOperand(operand: Operand): string {
  switch (operand.kind) {
    case 'field':
      return `.${operand.chain.join('.')}`;
    case 'variable':
      return operand.name + operand.chain.map((name) => `.${name}`).join('');
    default:
      return operand.kind;
  }
}
