/**
 * A container's log settings (docker's --log-driver and --log-opt, kept as HostConfig.LogConfig):
 * which drivers are taken, the rotation options, and the default cap that keeps a chatty
 * container from filling the disk (docker's `local` driver: 20 MB x 5 files).
 */
import { parseBytes } from '../cgroups/parse.js';
import { InvalidArgumentError } from '../errors.js';

/** docker's LogConfig: the driver and its options, as strings. */
export interface LogConfig {
  Type: string;
  Config: Record<string, string>;
}

/** The file driver: CRI-format records the monitor writes, as podman's k8s-file. */
export const FILE_DRIVER = 'k8s-file';
/** docker's names for a driver that keeps a file `docker logs` reads; they all mean the file driver here. */
const FILE_DRIVER_ALIASES = ['json-file', 'local'];
const DRIVERS = [FILE_DRIVER, ...FILE_DRIVER_ALIASES, 'none'];
const FILE_OPTIONS = ['max-size', 'max-file', 'labels', 'env'];
/** Options whose value is itself a comma-separated list (docker's labels=a,b and env=A,B). */
const LIST_OPTIONS = new Set(['labels', 'env']);

export const DEFAULT_LOG_CONFIG: LogConfig = {
  Type: FILE_DRIVER,
  Config: { 'max-size': '20m', 'max-file': '5' },
};

/** conmon's floor: a file must hold a record of a few KiB. */
export const MINIMUM_LOG_SIZE = 8 * 1024;

const OPTIONS_HINT =
  'accepted: --log-opt max-size=SIZE (e.g. 10m, at least 8k; -1 for no limit), max-file=N (1 to 100), labels=KEY,... and env=NAME,... (shown by logs --details)';

function parseMaxSize(value: string): number {
  if (value.trim() === '-1') return 0;
  const bytes = parseBytes(value, '--log-opt max-size');
  if (bytes < MINIMUM_LOG_SIZE) {
    throw new InvalidArgumentError(`--log-opt max-size=${value} is below the minimum of 8k`, {
      hint: OPTIONS_HINT,
    });
  }
  return bytes;
}

function parseMaxFile(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || Number(value) > 100) {
    throw new InvalidArgumentError(`--log-opt max-file=${value} is not a count of files from 1 to 100`, {
      hint: OPTIONS_HINT,
    });
  }
  return Number(value);
}

/**
 * The settings of `--log-driver DRIVER --log-opt KEY=VALUE ...`. Each --log-opt may also hold
 * several comma-separated pairs. The file driver gets docker's `local` defaults for what is not
 * given, so `inspect` shows the cap in force.
 */
export function parseLogConfig(driver: string | undefined, options: readonly string[] = []): LogConfig {
  const type = driver ?? FILE_DRIVER;
  if (!DRIVERS.includes(type)) {
    throw new InvalidArgumentError(`log driver ${JSON.stringify(type)} is not supported`, {
      hint: `gantry keeps logs in files: ${FILE_DRIVER} (json-file and local are taken as its names), or none to keep no log`,
    });
  }
  const given: Record<string, string> = {};
  let previous: string | undefined;
  for (const option of options.flatMap((text) => text.split(','))) {
    const index = option.indexOf('=');
    // labels=a,b: the pieces after the first belong to the list.
    if (index < 0 && previous !== undefined && LIST_OPTIONS.has(previous) && option.trim() !== '') {
      given[previous] = `${given[previous]},${option.trim()}`;
      continue;
    }
    if (index <= 0) {
      throw new InvalidArgumentError(`invalid --log-opt ${JSON.stringify(option)}: expected KEY=VALUE`, {
        hint: OPTIONS_HINT,
      });
    }
    previous = option.slice(0, index).trim();
    given[previous] = option.slice(index + 1).trim();
  }
  if (type === 'none') {
    const keys = Object.keys(given);
    if (keys.length > 0) {
      throw new InvalidArgumentError(`--log-opt ${keys[0]}: the none log driver takes no options`, {
        hint: `drop --log-opt, or use --log-driver ${FILE_DRIVER}`,
      });
    }
    return { Type: 'none', Config: {} };
  }
  for (const key of Object.keys(given)) {
    if (!FILE_OPTIONS.includes(key)) {
      throw new InvalidArgumentError(`unknown log option ${JSON.stringify(key)} for the ${type} driver`, {
        hint: OPTIONS_HINT,
      });
    }
  }
  const config = { ...DEFAULT_LOG_CONFIG.Config, ...given };
  parseMaxSize(config['max-size']!);
  parseMaxFile(config['max-file']!);
  return { Type: FILE_DRIVER, Config: config };
}

/** The config a record runs with: containers made before log settings existed get the default. */
export function logConfigOf(hostConfig: { LogConfig?: LogConfig }): LogConfig {
  return hostConfig.LogConfig ?? DEFAULT_LOG_CONFIG;
}

/** What the monitor is told: no file above `size` bytes (0: no limit), `files` files kept. */
export function logRotation(config: LogConfig): { size: number; files: number } | undefined {
  if (config.Type === 'none') return undefined;
  const size = parseMaxSize(config.Config['max-size'] ?? '-1');
  // docker: max-file counts only with a max-size.
  return { size, files: size === 0 ? 1 : parseMaxFile(config.Config['max-file'] ?? '1') };
}

/**
 * What `logs --details` puts before each line, as docker's: the container labels and environment
 * variables named by --log-opt labels= and env=, as KEY=VALUE (query-escaped) joined by commas,
 * then a space (only the space when none is set).
 */
export function logDetails(
  config: LogConfig,
  labels: Record<string, string>,
  env: readonly string[],
): string {
  const attributes = new Map<string, string>();
  const names = (key: string) => (config.Config[key] ?? '').split(',').filter((name) => name !== '');
  for (const name of names('labels')) if (Object.hasOwn(labels, name)) attributes.set(name, labels[name]!);
  for (const name of names('env')) {
    const entry = env.find((item) => item.startsWith(`${name}=`));
    if (entry !== undefined) attributes.set(name, entry.slice(name.length + 1));
  }
  const text = [...attributes.keys()]
    .sort()
    .map((key) => `${key}=${encodeURIComponent(attributes.get(key)!).replace(/%20/g, '+')}`)
    .join(',');
  return `${text} `;
}
