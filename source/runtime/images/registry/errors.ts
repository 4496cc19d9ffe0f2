/**
 * Failures talking to a registry. Each names the registry, the repository or reference and what
 * the registry said, and suggests the next step (log in, check the name, retry).
 */
import { GantryError, type GantryErrorOptions } from '../../errors.js';

/** The registry wants credentials, or refused the ones it got (HTTP 401/403). */
export class RegistryAuthError extends GantryError {}

/** The registry could not be reached, or dropped the connection and retries did not help. */
export class RegistryConnectionError extends GantryError {}

/** The registry answered with an error status (5xx, unexpected 4xx) or broke the protocol. */
export class RegistryResponseError extends GantryError {
  constructor(
    message: string,
    readonly status: number | undefined,
    options: GantryErrorOptions = {},
  ) {
    super(message, options);
  }
}

/** Errors worth another attempt: dropped connections, timeouts, 5xx and 429 answers. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof RegistryConnectionError) return true;
  if (error instanceof RegistryResponseError) {
    return (
      error.status !== undefined && (error.status >= 500 || error.status === 429 || error.status === 408)
    );
  }
  return false;
}
