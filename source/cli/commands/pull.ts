/** `gantry pull [OPTIONS] NAME[:TAG|@DIGEST]` (also `gantry image pull`). */
import { bool, str, UsageError, type CommandSpec, type OptionSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { TransferProgress } from '../progress.js';
import type { TransferOptions } from '../../runtime/images/registry/transfer.js';
import type { PullResult } from '../../runtime/images/registry/pull.js';
import type { Engine } from '../../runtime/containers/engine.js';
import type { HostPullResult } from '../../runtime/remote/host-engine.js';

/** Flags shared by pull, push and login. */
export const REGISTRY_OPTIONS: OptionSpec[] = [
  {
    name: 'tls-verify',
    type: 'boolean',
    description:
      'Require HTTPS and verify certificates (default true; registries on localhost/127.0.0.0/8 may also answer over plain HTTP). --tls-verify=false allows plain HTTP and any certificate',
  },
  {
    name: 'authfile',
    type: 'string',
    placeholder: 'path',
    description:
      'Credentials file (default $REGISTRY_AUTH_FILE, else <root>/auth.json, then ~/.docker/config.json read-only)',
  },
  {
    name: 'creds',
    type: 'string',
    placeholder: 'user:password',
    description: 'Credentials for this command only',
  },
];

export const spec: CommandSpec = {
  name: 'pull',
  usage: 'pull [OPTIONS] NAME[:TAG|@DIGEST]',
  description: 'Download an image from a registry',
  minArgs: 1,
  maxArgs: 1,
  options: [
    {
      name: 'platform',
      type: 'string',
      placeholder: 'os/arch[/variant]',
      description: 'Platform to pick from a multi-platform image (default: this host)',
    },
    ...REGISTRY_OPTIONS,
    {
      name: 'quiet',
      short: 'q',
      type: 'boolean',
      description: 'Print only the image name (or ID) when done, no progress',
    },
    { name: 'json', type: 'boolean', description: 'Print the result as JSON, no progress' },
  ],
};

/** The transfer options the registry flags ask for. */
export async function transferOptions(parsed: ParsedArgs, context: CommandContext): Promise<TransferOptions> {
  const { authFileLocation } = await import('../../runtime/images/registry/auth-file.js');
  const options: TransferOptions = {
    authFile: authFileLocation(context.engineOptions.root, str(parsed.options, 'authfile')),
  };
  const tlsVerify = parsed.options['tls-verify'];
  if (typeof tlsVerify === 'boolean') options.tlsVerify = tlsVerify;
  const creds = str(parsed.options, 'creds');
  if (creds !== undefined) {
    const colon = creds.indexOf(':');
    if (colon <= 0)
      throw new UsageError('invalid --creds: expected user:password (the user name may not be empty)');
    options.credentials = { username: creds.slice(0, colon), password: creds.slice(colon + 1) };
  }
  return options;
}

/**
 * pull on a remote host (--host): the host downloads from the registries it reaches, with its own
 * credentials file (or --creds); its progress comes back over the protocol as it goes.
 */
async function remotePull(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  if (str(parsed.options, 'authfile') !== undefined)
    throw new UsageError(
      `--authfile names a file on this machine; a pull on ${context.host} uses that host's own credentials file (or give --creds)`,
    );
  const { parsePlatform } = await import('../../runtime/images/import/platform.js');
  const platform = str(parsed.options, 'platform');
  const { tlsVerify, credentials } = await transferOptions(parsed, context);
  const remote = await context.hostEngine();
  const quiet = bool(parsed.options, 'quiet') || bool(parsed.options, 'json');
  const progress = quiet ? undefined : new TransferProgress(context.stdout, 'pull');
  let result;
  try {
    result = await remote.images.pull(
      {
        reference: parsed.args[0]!,
        ...(platform !== undefined ? { platform: parsePlatform(platform) } : {}),
        ...(tlsVerify !== undefined ? { tlsVerify } : {}),
        ...(credentials ? { credentials } : {}),
      },
      progress ? (event) => progress.handle(event) : undefined,
    );
  } finally {
    progress?.close();
  }
  const { upToDate, ...summary } = result;
  return printRemotePull(parsed, context, summary, upToDate);
}

/** What pull prints once the remote host stored the image: as for a pull on this machine. */
function printRemotePull(
  parsed: ParsedArgs,
  context: CommandContext,
  summary: Omit<HostPullResult, 'upToDate'>,
  upToDate: boolean,
): number {
  const label = summary.Name ?? `${parsed.args[0]}`;
  if (bool(parsed.options, 'json')) {
    write(context.stdout, JSON.stringify(summary, null, 2));
    return 0;
  }
  if (!bool(parsed.options, 'quiet')) {
    write(context.stdout, `Digest: ${summary.Digest}`);
    write(
      context.stdout,
      upToDate ? `Status: Image is up to date for ${label}` : `Status: Downloaded newer image for ${label}`,
    );
  }
  write(context.stdout, label);
  return 0;
}

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  if (context.host !== undefined) return remotePull(parsed, context);
  const options = await transferOptions(parsed, context);
  const platform = str(parsed.options, 'platform');
  const json = bool(parsed.options, 'json');
  const quiet = bool(parsed.options, 'quiet');
  const result = await pullWithProgress(await context.engine(), parsed.args[0]!, {
    ...options,
    ...(platform === undefined ? {} : { platform }),
    progress: quiet || json ? undefined : context.stdout,
  });
  if (json) {
    write(
      context.stdout,
      JSON.stringify(
        {
          Id: result.record.id,
          Name: result.name ?? null,
          Digest: result.indexDigest ?? result.manifestDigest,
          ManifestDigest: result.manifestDigest,
          Layers: result.layers.map((layer) => ({
            Digest: layer.digest,
            Size: layer.size,
            Source: layer.source,
          })),
        },
        null,
        2,
      ),
    );
    return 0;
  }
  write(context.stdout, result.label);
  return 0;
}

/**
 * A pull as docker shows it: per-layer progress, then `Digest:` and `Status:` on `progress` (none
 * when undefined). `run` and `create` pull a missing image through here, onto stderr.
 */
export async function pullWithProgress(
  engine: Engine,
  reference: string,
  options: TransferOptions & { platform?: string; progress?: NodeJS.WritableStream | undefined },
): Promise<PullResult & { label: string }> {
  const [{ pullImage }, { parsePlatform }] = await Promise.all([
    import('../../runtime/images/registry/pull.js'),
    import('../../runtime/images/import/platform.js'),
  ]);
  const { platform, progress: stream, ...transfer } = options;
  // "Up to date" as docker says it: the reference named this same image before the pull.
  const before = await engine.images
    .resolve(reference)
    .then((record) => record.id)
    .catch(() => undefined);
  const progress = stream ? new TransferProgress(stream, 'pull') : undefined;
  let result;
  try {
    result = await pullImage(engine.images, reference, {
      ...transfer,
      platform: platform === undefined ? undefined : parsePlatform(platform),
      onEvent: progress ? (event) => progress.handle(event) : undefined,
    });
  } finally {
    progress?.close();
  }
  const label = result.name ?? reference;
  if (stream) {
    write(stream, `Digest: ${result.indexDigest ?? result.manifestDigest}`);
    write(
      stream,
      before === result.record.id
        ? `Status: Image is up to date for ${label}`
        : `Status: Downloaded newer image for ${label}`,
    );
  }
  return { ...result, label };
}
