/**
 * The new-container form (`n`): its fields, how it becomes create options, and its reducer.
 * Every field is checked on Enter and every problem is shown at once beside its field, with the
 * same parsers (and words) as `gantry run`'s flags.
 */
import { parseCpus, parseMemoryLimit, parsePidsLimit } from '../../runtime/cgroups/parse.js';
import type { Resources } from '../../runtime/cgroups/types.js';
import type { CreateOptions } from '../../runtime/containers/create.js';
import { validateName } from '../../runtime/containers/names.js';
import { InvalidArgumentError } from '../../runtime/errors.js';
import type { ImageRecord } from '../../runtime/images/types.js';
import { LOCAL_HOST, splitKey } from '../hosts/keys.js';
import { describeError, hostCpuCount } from './limit-definitions.js';
import type { Action, FormField, FormState, TuiState } from './types.js';

/** The default image a fresh machine gets from `image from-host`. */
export const DEFAULT_IMAGE_NAME = 'gantry-host:latest';

/**
 * The form for a new container from an image. `imageReference` is the image's key: a remote
 * host's image (several hosts shown) makes the container on that host, as the title says.
 */
export function newContainerForm(
  image: ImageRecord | undefined,
  imageReference: string,
  label: string,
): FormState {
  const { host, id } = splitKey(imageReference);
  const remote = host === LOCAL_HOST ? undefined : host;
  const fields: FormField[] = [
    { name: 'name', label: 'Name', value: '', placeholder: 'generated' },
    {
      name: 'command',
      label: 'Command',
      value: '',
      placeholder: "the image's command (a shell stays open for `e`)",
    },
    { name: 'memory', label: 'Memory', value: '', placeholder: 'unlimited, e.g. 256m' },
    { name: 'cpus', label: 'CPUs', value: '', placeholder: 'unlimited, e.g. 0.5' },
    { name: 'pids', label: 'Pids limit', value: '', placeholder: 'unlimited, e.g. 100' },
  ];
  return {
    // By name where the image has one, as `gantry run NAME` would record it (the IMAGE column).
    image: image?.names[0] ?? id,
    imageLabel: remote ? `${label} on ${remote}` : label,
    ...(remote ? { host: remote } : {}),
    fields,
    focus: 0,
    error: undefined,
    errors: {},
    submitting: false,
  };
}

/**
 * Splits a command line as a shell would for plain words and '…' / "…" quoting; an unclosed
 * quote is an error (a shell would wait for the rest).
 */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let current = '';
  let quote: '"' | "'" | undefined;
  let started = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index]!;
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === '\\' && quote === '"' && index + 1 < text.length) current += text[++index];
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      started = true;
    } else if (char === '\\' && index + 1 < text.length) {
      current += text[++index];
      started = true;
    } else if (/\s/.test(char)) {
      if (started) words.push(current);
      current = '';
      started = false;
    } else {
      current += char;
      started = true;
    }
  }
  if (quote)
    throw new InvalidArgumentError(`the ${quote === '"' ? 'double' : 'single'} quote is not closed`, {
      hint: `close it with ${quote}`,
    });
  if (started) words.push(current);
  return words;
}

type FieldName = FormField['name'];

/** The form as create options, or the problem of every field that has one. */
export function checkForm(form: FormState): {
  options: CreateOptions | undefined;
  errors: Partial<Record<FieldName, string>>;
} {
  const value = (name: FieldName) => form.fields.find((field) => field.name === name)?.value.trim() ?? '';
  const errors: Partial<Record<FieldName, string>> = {};
  const check = <T>(name: FieldName, read: (text: string) => T): T | undefined => {
    if (!value(name)) return undefined;
    try {
      return read(value(name));
    } catch (error) {
      errors[name] = describeError(error);
      return undefined;
    }
  };
  const name = check('name', validateName);
  const command = check('command', splitCommand) ?? [];
  const resources: Resources = {};
  const memory = check('memory', (text) => parseMemoryLimit(text, 'memory'));
  if (memory !== undefined) resources.memory = memory;
  const cpus = check('cpus', (text) => parseCpus(text, hostCpuCount()));
  if (cpus) Object.assign(resources, cpus);
  const pids = check('pids', parsePidsLimit);
  if (pids !== undefined) resources.pidsLimit = pids;
  if (Object.keys(errors).length > 0) return { options: undefined, errors };
  const options: CreateOptions = {
    image: form.image,
    // -dit, as one would type it: a shell (the usual image command) stays up for `e` to attach to.
    tty: true,
    interactive: true,
    resources,
  };
  if (name) options.name = name;
  if (command.length > 0) options.command = command;
  return { options, errors };
}

/** The form as create options; throws the first problem (for callers that want one). */
export function formToCreateOptions(form: FormState): CreateOptions {
  const { options, errors } = checkForm(form);
  if (options) return options;
  throw new InvalidArgumentError(Object.values(errors)[0]!);
}

export function reduceForm(state: TuiState, action: Action): TuiState {
  const overlay = state.ui.overlay;
  if (overlay?.kind !== 'form') return state;
  const form = overlay.form;
  const write = (changes: Partial<FormState>): TuiState => ({
    ...state,
    ui: { ...state.ui, overlay: { kind: 'form', form: { ...form, ...changes } } },
  });
  switch (action.type) {
    case 'form/input': {
      const field = form.fields[form.focus];
      // A field's problem goes when it is changed; the others' stay until they are.
      const errors = { ...form.errors };
      if (field) delete errors[field.name];
      return write({
        fields: form.fields.map((candidate, index) =>
          index === form.focus ? { ...candidate, value: action.text } : candidate,
        ),
        errors,
        error: undefined,
      });
    }
    case 'form/focus':
      return write({ focus: (form.focus + action.delta + form.fields.length) % form.fields.length });
    case 'form/invalid': {
      // The cursor goes to the first field with a problem.
      const first = form.fields.findIndex((field) => action.errors[field.name] !== undefined);
      return write({
        errors: action.errors,
        error: undefined,
        submitting: false,
        focus: first >= 0 ? first : form.focus,
      });
    }
    case 'form/error':
      return write({ error: action.error, submitting: false });
    case 'form/submitting':
      return write({ submitting: true, error: undefined, errors: {} });
    default:
      return state;
  }
}
