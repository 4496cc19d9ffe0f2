/**
 * A small subset of docker's Go templates for --format: "{{.State.Pid}}", "{{json .Config}}",
 * "{{.Name}} {{.State.Status}}". Enough for the scripts people write against inspect and ps.
 */
import { InvalidArgumentError } from '../runtime/errors.js';

function lookup(value: unknown, expression: string): unknown {
  if (expression === '.') return value;
  if (!expression.startsWith('.'))
    throw new InvalidArgumentError(`template: unsupported expression ${JSON.stringify(expression)}`);
  let current: unknown = value;
  for (const key of expression.slice(1).split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function show(value: unknown): string {
  if (value === undefined || value === null) return '<no value>';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function renderTemplate(template: string, value: unknown): string {
  const text = template.replace(/\\n/g, '\n').replace(/\\t/g, '\t');
  return text.replace(/\{\{\s*(.*?)\s*\}\}/g, (_, inner: string) => {
    const parts = inner.split(/\s+/);
    if (parts[0] === 'json' && parts.length === 2) return JSON.stringify(lookup(value, parts[1]!));
    if (parts[0] === 'upper' && parts.length === 2) return show(lookup(value, parts[1]!)).toUpperCase();
    if (parts[0] === 'lower' && parts.length === 2) return show(lookup(value, parts[1]!)).toLowerCase();
    if (parts.length !== 1)
      throw new InvalidArgumentError(
        `template: unsupported action {{${inner}}} (supported: .Field.Path, json .Field)`,
      );
    return show(lookup(value, parts[0]!));
  });
}
