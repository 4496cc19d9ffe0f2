export declare const SSHD: string;

export interface TestSshd {
  port: number;
  /** ssh://root@127.0.0.1:PORT followed by `gantryPath`. */
  url(gantryPath?: string): string;
  /** The client environment: GANTRY_SSH_COMMAND with this server's client config. */
  clientEnv: Record<string, string>;
  /** The listener's PID (the process started here; a new one after restart). */
  readonly pid: number;
  /**
   * Kills the listener and the per-connection sshd processes it forked (a host that drops); the
   * processes of the sessions are left to notice their end.
   */
  kill(): void;
  /** Kills it (as kill does) and starts it again on the same port with the same keys: the host is back. */
  restart(): Promise<void>;
  /** What sshd wrote on its stderr. */
  log(): string;
  /** Kills it and removes its directory at once; resolves when the listener has exited. */
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** The temporary directory's name before its random part (default gantry-sshd). */
  tempPrefix?: string;
  /**
   * A network namespace of the caller's own (`ip netns` name): the server listens on its
   * 127.0.0.1, its sessions run there, and `clientEnv`'s ssh enters it too (nsenter), so a remote
   * service reaches only what the caller serves in that namespace (a registry).
   */
  netns?: string;
}

export declare function startSshd(
  remoteEnv: Record<string, string>,
  options?: SshdOptions,
): Promise<TestSshd>;
