/**
 * A small subset of docker's Go templates for --format: "{{.State.Pid}}", "{{json .Config}}",
 * "{{.Name}} {{.State.Status}}". Enough for the scripts people write against inspect and ps.
 */
import { InvalidArgumentError } from '../runtime/errors.js';

export interface TemplateOptions {
  /**
   * What a field the value does not have gives: "error" (docker's typed rows: ps, images, stats,
   * events) or "<no value>" (docker inspect, which falls back to the raw JSON map).
   */
  missing?: 'error' | 'no-value';
}

function lookup(value: unknown, expression: string, options: TemplateOptions): unknown {
  if (expression === '.') return value;
  if (!expression.startsWith('.'))
    throw new InvalidArgumentError(`template: unsupported expression ${JSON.stringify(expression)}`);
  let current: unknown = value;
  for (const [depth, key] of expression.slice(1).split('.').entries()) {
    if (current === null || current === undefined) return undefined;
    // Below the row's own fields are maps (labels, attributes): a missing key there is
    // <no value>, as in Go templates; only a row field that does not exist is an error.
    if (options.missing === 'no-value' || depth > 0) {
      if (typeof current !== 'object') return undefined;
      current = (current as Record<string, unknown>)[key];
      continue;
    }
    // As docker: a field the object does not have is an error, not an empty value that a
    // script would take for data.
    if (typeof current !== 'object' || !Object.prototype.hasOwnProperty.call(current, key))
      throw new InvalidArgumentError(
        `template: executing at <${expression}>: ${typeof current === 'object' ? `no field ${JSON.stringify(key)}` : `cannot read ${JSON.stringify(key)} of ${JSON.stringify(current)}`}`,
        {
          hint: `the fields here are: ${typeof current === 'object' ? Object.keys(current).join(', ') : 'none'}`,
        },
      );
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function show(value: unknown): string {
  if (value === undefined || value === null) return '<no value>';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function renderTemplate(template: string, value: unknown, options: TemplateOptions = {}): string {
  const text = template.replace(/\\n/g, '\n').replace(/\\t/g, '\t');
  return text.replace(/\{\{\s*(.*?)\s*\}\}/g, (_, inner: string) => {
    const parts = inner.split(/\s+/);
    if (parts[0] === 'json' && parts.length === 2) return JSON.stringify(lookup(value, parts[1]!, options));
    if (parts[0] === 'upper' && parts.length === 2)
      return show(lookup(value, parts[1]!, options)).toUpperCase();
    if (parts[0] === 'lower' && parts.length === 2)
      return show(lookup(value, parts[1]!, options)).toLowerCase();
    if (parts.length !== 1)
      throw new InvalidArgumentError(
        `template: unsupported action {{${inner}}} (supported: .Field.Path, json .Field)`,
      );
    return show(lookup(value, parts[0]!, options));
  });
}
