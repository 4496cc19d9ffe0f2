/**
 * A docker-style argument parser: long and short flags, "--flag=value", combined short
 * booleans ("-it"), repeated list flags ("-e A -e B"), "--" to end flags, and for commands like
 * run/exec everything after the first positional belongs to the container command.
 */
import { GantryError } from '../runtime/errors.js';

export class UsageError extends GantryError {
  override readonly exitCode: number = 125;
}

export type OptionType = 'boolean' | 'string' | 'list' | 'number';

export interface OptionSpec {
  /** Long name without dashes ("detach"). */
  name: string;
  short?: string;
  type: OptionType;
  description: string;
  /** Shown in help after the flag ("string", "seconds", ...). */
  placeholder?: string;
  hidden?: boolean;
}

export interface CommandSpec {
  /** Full command path as typed ("image ls"). */
  name: string;
  usage: string;
  description: string;
  options: OptionSpec[];
  /** Flags end at the first positional (run IMAGE CMD..., exec CONTAINER CMD...). */
  stopAtFirstPositional?: boolean;
  minArgs?: number;
  maxArgs?: number;
  aliases?: string[];
}

export type OptionValues = Record<string, boolean | string | string[] | number | undefined>;

export interface ParsedArgs {
  options: OptionValues;
  args: string[];
  help: boolean;
}

const HELP: OptionSpec = { name: 'help', type: 'boolean', description: 'Print usage' };

function seeHelp(spec: CommandSpec): string {
  return `See 'gantry ${spec.name} --help'.`;
}

function convert(option: OptionSpec, raw: string, spec: CommandSpec): string | number | boolean {
  if (option.type === 'number') {
    if (!/^-?\d+(\.\d+)?$/.test(raw)) {
      throw new UsageError(
        `invalid argument "${raw}" for "--${option.name}" flag: expected a number\n${seeHelp(spec)}`,
      );
    }
    return Number(raw);
  }
  if (option.type === 'boolean') {
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    throw new UsageError(
      `invalid argument "${raw}" for "--${option.name}" flag: expected true or false\n${seeHelp(spec)}`,
    );
  }
  return raw;
}

export function parseArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const options: OptionValues = {};
  const args: string[] = [];
  const all = [...spec.options, HELP];
  const byName = new Map(all.map((o) => [o.name, o]));
  const byShort = new Map(all.filter((o) => o.short).map((o) => [o.short!, o]));
  const assign = (option: OptionSpec, value: string | number | boolean) => {
    if (option.type === 'list')
      options[option.name] = [...((options[option.name] as string[] | undefined) ?? []), String(value)];
    else options[option.name] = value;
  };
  let index = 0;
  const takeValue = (option: OptionSpec, flag: string): string => {
    if (index + 1 >= argv.length) throw new UsageError(`flag needs an argument: ${flag}\n${seeHelp(spec)}`);
    index += 1;
    return argv[index]!;
  };
  for (; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === '--') {
      args.push(...argv.slice(index + 1));
      break;
    }
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const option = byName.get(name);
      if (!option) throw new UsageError(`unknown flag: --${name}\n${seeHelp(spec)}`);
      if (eq >= 0) assign(option, convert(option, arg.slice(eq + 1), spec));
      else if (option.type === 'boolean') assign(option, true);
      else assign(option, convert(option, takeValue(option, `--${name}`), spec));
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
      // "-it", "-e", "-eFOO=bar", "-t=false"
      for (let position = 1; position < arg.length; position++) {
        const letter = arg[position]!;
        const option = byShort.get(letter);
        if (!option) throw new UsageError(`unknown shorthand flag: '${letter}' in ${arg}\n${seeHelp(spec)}`);
        const rest = arg.slice(position + 1);
        if (option.type === 'boolean') {
          if (rest.startsWith('=')) {
            assign(option, convert(option, rest.slice(1), spec));
            break;
          }
          assign(option, true);
          continue;
        }
        if (rest !== '') assign(option, convert(option, rest.replace(/^=/, ''), spec));
        else assign(option, convert(option, takeValue(option, `-${letter}`), spec));
        break;
      }
      continue;
    }
    args.push(arg);
    if (spec.stopAtFirstPositional) {
      args.push(...argv.slice(index + 1));
      break;
    }
  }
  const help = options.help === true;
  if (!help) {
    if (spec.minArgs !== undefined && args.length < spec.minArgs) {
      throw new UsageError(
        `"gantry ${spec.name}" requires ${spec.minArgs === 1 ? 'at least 1 argument' : `at least ${spec.minArgs} arguments`}.\n${seeHelp(spec)}\n\nUsage:  gantry ${spec.usage}`,
      );
    }
    if (spec.maxArgs !== undefined && args.length > spec.maxArgs) {
      throw new UsageError(
        `"gantry ${spec.name}" accepts ${spec.maxArgs === 0 ? 'no arguments' : `at most ${spec.maxArgs} argument${spec.maxArgs === 1 ? '' : 's'}`}.\n${seeHelp(spec)}\n\nUsage:  gantry ${spec.usage}`,
      );
    }
  }
  return { options, args, help };
}

export function formatHelp(spec: CommandSpec): string {
  const lines = [`Usage:  gantry ${spec.usage}`, '', spec.description, ''];
  const visible = [...spec.options, HELP].filter((o) => !o.hidden);
  if (visible.length > 0) {
    lines.push('Options:');
    const rows = visible.map((o) => {
      const flag = `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.type === 'boolean' ? '' : ` ${o.placeholder ?? (o.type === 'list' ? 'list' : o.type)}`}`;
      return [flag, o.description] as const;
    });
    const width = Math.max(...rows.map(([flag]) => flag.length));
    for (const [flag, description] of rows) lines.push(`  ${flag.padEnd(width)}   ${description}`);
  }
  return `${lines.join('\n')}\n`;
}

export const str = (options: OptionValues, name: string): string | undefined =>
  options[name] as string | undefined;
export const list = (options: OptionValues, name: string): string[] =>
  (options[name] as string[] | undefined) ?? [];
export const bool = (options: OptionValues, name: string): boolean => options[name] === true;
export const num = (options: OptionValues, name: string): number | undefined =>
  options[name] as number | undefined;
/** A list option of KEY=VALUE (or KEY, for an empty value) as a record: --label, --opt. */
export const keyValues = (options: OptionValues, name: string): Record<string, string> => {
  const result: Record<string, string> = {};
  for (const value of list(options, name)) {
    const index = value.indexOf('=');
    result[index < 0 ? value : value.slice(0, index)] = index < 0 ? '' : value.slice(index + 1);
  }
  return result;
};
