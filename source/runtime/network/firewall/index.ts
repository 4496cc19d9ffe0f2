/**
 * Which firewall gantry writes its NAT rules with: nftables where `nft` exists, else iptables
 * (`GANTRY_FIREWALL=nftables|iptables` chooses). `network inspect` reports the choice.
 */
import { UnsupportedError } from '../../errors.js';
import { findTool } from '../tools.js';
import { applyIptables } from './iptables.js';
import type { FirewallModel } from './model.js';
import { applyNftables } from './nftables.js';

export type FirewallBackend = 'nftables' | 'iptables';

export function firewallBackend(env: NodeJS.ProcessEnv = process.env): FirewallBackend {
  const chosen = env.GANTRY_FIREWALL;
  if (chosen === 'nftables' || chosen === 'iptables') return chosen;
  if (chosen !== undefined && chosen !== '') {
    throw new UnsupportedError(`GANTRY_FIREWALL=${chosen} is not a firewall gantry knows`, {
      hint: 'accepted are nftables and iptables (or leave it unset to pick what the host has)',
    });
  }
  if (findTool('nft')) return 'nftables';
  if (findTool('iptables-restore')) return 'iptables';
  throw new UnsupportedError(
    'bridge networking needs nftables (nft) or iptables, and this host has neither',
    {
      hint: 'install nftables, or run the container with --network none (own stack with only lo) or --network host',
    },
  );
}

export function applyFirewall(model: FirewallModel, backend: FirewallBackend): Promise<void> {
  return backend === 'nftables' ? applyNftables(model) : applyIptables(model);
}
