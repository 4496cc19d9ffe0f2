/** docker's --format templates (Go text/template): the implementation lives in ./template/. */
export {
  compileTemplate,
  formatRows,
  renderTemplate,
  tabwrite,
  TemplateError,
  TemplateExecError,
  type RowFormat,
  type Template,
  type TemplateOptions,
} from './template/index.js';
