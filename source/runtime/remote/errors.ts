/** Why a remote host could not be used: each says which host, and what ssh or the far end said. */
import { GantryError } from '../errors.js';

/** ssh could not connect or log in, or the connection dropped (its own message kept). */
export class HostUnreachableError extends GantryError {
  constructor(
    readonly host: string,
    reason: string,
    options: { cause?: unknown; hint?: string } = {},
  ) {
    super(`host ${host} is unreachable: ${reason}`, {
      ...options,
      hint:
        options.hint ??
        'check that `ssh` reaches it with the same user, port and key (gantry runs your ssh client, with its config and agent)',
    });
  }
}

/** The far end answered, but not as a gantry service (missing, too old, or failing to start). */
export class RemoteGantryError extends GantryError {
  constructor(
    readonly host: string,
    reason: string,
    options: { cause?: unknown; hint?: string } = {},
  ) {
    super(`gantry on ${host} ${reason}`, options);
  }
}

/** Both ends are gantry, but share no protocol version. */
export class ProtocolVersionError extends GantryError {
  constructor(
    readonly host: string,
    remote: { protocol: number; minProtocol: number; gantry: string },
    local: { protocol: number; minProtocol: number; gantry: string },
  ) {
    const older = remote.protocol < local.minProtocol;
    super(
      `gantry on ${host} is ${older ? 'too old' : 'too new'}: it is version ${remote.gantry} speaking protocol ${remote.minProtocol}..${remote.protocol}, this gantry ${local.gantry} speaks ${local.minProtocol}..${local.protocol}`,
      { hint: older ? `upgrade gantry on ${host}` : 'upgrade this gantry' },
    );
  }
}
