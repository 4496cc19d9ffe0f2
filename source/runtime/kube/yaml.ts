/**
 * Manifests as YAML text and back. The `yaml` package is loaded here, on the kube path only: no
 * other command pays for it.
 */
import { InvalidArgumentError } from '../errors.js';
import type * as Yaml from 'yaml';
import type { GenerateResult } from './generate.js';

type YamlModule = typeof Yaml;

/** The package is CommonJS for Node: bundled, its functions are on the default export. */
async function loadYaml(): Promise<YamlModule> {
  const loaded = (await import('yaml')) as YamlModule & { default?: YamlModule };
  return loaded.default ?? loaded;
}

/** The manifest with podman's header and, as a comment, what Kubernetes cannot say. */
export async function manifestText(result: GenerateResult, version: string): Promise<string> {
  const { stringify } = await loadYaml();
  const header = [
    '# Save the output of this file and use kubectl create -f to import',
    '# it into Kubernetes.',
    '#',
    `# Created with gantry-${version}`,
  ];
  if (result.notes.length > 0) {
    header.push('#', '# Not expressible in Kubernetes (these settings are not in the manifest):');
    for (const note of result.notes) header.push(`#   ${note.replace(/\n/g, ' ')}`);
  }
  return `${header.join('\n')}\n${stringify(result.manifest, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

/** Every document of a YAML file (a manifest may hold several, separated by `---`). */
export async function parseDocuments(text: string, file: string): Promise<unknown[]> {
  const { parseAllDocuments } = await loadYaml();
  const documents = parseAllDocuments(text);
  const list = Array.isArray(documents) ? documents : [documents];
  const values: unknown[] = [];
  for (const document of list) {
    const [error] = document.errors;
    if (error) {
      throw new InvalidArgumentError(`${file}: not valid YAML: ${error.message.split('\n')[0]}`, {
        hint: 'give a Kubernetes manifest (YAML or JSON), such as `gantry kube generate` writes',
      });
    }
    const value: unknown = document.toJS();
    if (value !== null && value !== undefined) values.push(value);
  }
  return values;
}
