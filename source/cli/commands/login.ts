/**
 * `gantry login [OPTIONS] SERVER`: checks the credentials against the registry (Basic, or a token
 * from its token server), then stores them in the auth file (see auth-file.ts for which file).
 */
import { bool, str, UsageError, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { readStdinText } from '../stdin.js';
import { REGISTRY_OPTIONS } from './pull.js';

export const spec: CommandSpec = {
  name: 'login',
  usage: 'login [OPTIONS] SERVER',
  description: 'Log in to a registry (credentials are checked, then stored in the auth file)',
  minArgs: 1,
  maxArgs: 1,
  options: [
    { name: 'username', short: 'u', type: 'string', description: 'User name' },
    {
      name: 'password',
      short: 'p',
      type: 'string',
      description: 'Password (visible to other users in the process list; prefer --password-stdin)',
    },
    { name: 'password-stdin', type: 'boolean', description: 'Read the password from standard input' },
    { name: 'get-login', type: 'boolean', description: 'Print the user name stored for SERVER and exit' },
    ...REGISTRY_OPTIONS.filter((option) => option.name !== 'creds'),
  ],
};

/** --password-stdin: the password is stdin without its final newline. */
async function readStdin(): Promise<string> {
  return (await readStdinText()).replace(/\r?\n$/, '');
}

/** Asks on the terminal; the password is not echoed. */
async function prompt(question: string, hidden: boolean): Promise<string> {
  const readline = await import('node:readline');
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  if (hidden) {
    const output = rl as unknown as { _writeToOutput?: (text: string) => void };
    output._writeToOutput = (text: string) => {
      if (text.includes(question)) process.stderr.write(question);
    };
  }
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    rl.close();
    if (hidden) process.stderr.write('\n');
  }
}

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const [{ authFileLocation, lookupCredentials, normalizeServer, storeCredentials }, { RegistryClient }] =
    await Promise.all([
      import('../../runtime/images/registry/auth-file.js'),
      import('../../runtime/images/registry/client.js'),
    ]);
  const server = normalizeServer(parsed.args[0]!);
  const location = authFileLocation(context.engineOptions.root, str(parsed.options, 'authfile'));
  if (bool(parsed.options, 'get-login')) {
    const stored = await lookupCredentials(location, server);
    if (!stored) {
      context.stderr.write(`gantry: not logged in to ${server}\n`);
      return 1;
    }
    write(context.stdout, stored.username);
    return 0;
  }
  let username = str(parsed.options, 'username');
  let password = str(parsed.options, 'password');
  if (bool(parsed.options, 'password-stdin')) {
    if (password !== undefined)
      throw new UsageError('--password and --password-stdin are mutually exclusive');
    if (username === undefined)
      throw new UsageError('--password-stdin needs --username (standard input carries the password)');
    password = await readStdin();
  }
  const interactive = process.stdin.isTTY === true;
  if (username === undefined) {
    if (!interactive)
      throw new UsageError(
        'no user name given: use --username (and --password-stdin) when not on a terminal',
      );
    username = (await prompt('Username: ', false)).trim();
  }
  if (password === undefined) {
    if (!interactive) throw new UsageError('no password given: use --password-stdin when not on a terminal');
    password = await prompt('Password: ', true);
  }
  if (username === '') throw new UsageError('the user name is empty');
  if (password === '') throw new UsageError('the password is empty');
  const tlsVerify = parsed.options['tls-verify'];
  const client = new RegistryClient({
    registry: server,
    tlsVerify: typeof tlsVerify === 'boolean' ? tlsVerify : undefined,
    credentials: { username, password },
  });
  try {
    await client.verifyCredentials();
  } finally {
    client.close();
  }
  await storeCredentials(location, server, { username, password });
  write(context.stdout, 'Login Succeeded!');
  return 0;
}
