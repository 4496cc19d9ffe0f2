/** The errors of --format templates: where in the template, what was wrong, what is accepted. */
import { InvalidArgumentError } from '../../runtime/errors.js';

const HINT =
  'templates are Go text/template as docker takes them: {{.Field}}, {{json .}}, pipes, if/else, range, ' +
  'with, variables, and the functions listed in `gantry ps --help`';

/** A template that does not parse (docker: "template parsing error"). */
export class TemplateError extends InvalidArgumentError {
  constructor(line: number, message: string) {
    super(`template parsing error: template: :${line}: ${message}`, { hint: HINT });
  }
}

/** A template that parsed but failed on the data (docker: "template: :1:2: executing ..."). */
export class TemplateExecError extends InvalidArgumentError {
  constructor(where: string, message: string, hint?: string) {
    super(`template: executing at <${where}>: ${message}`, { hint: hint ?? HINT });
  }
}
