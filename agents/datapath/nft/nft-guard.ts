// PortGuard on the real kernel: guard-ruleset.ts documents applied with nft
// in the agent's host namespace.
import type { GuardedPort, IfnameChange, PortGuard, SpoofReason } from '../policy-table-port.js';
import { GUARD_FAMILY, GUARD_TABLE, diffGuard, readSpoofDrops, renderGuard } from './guard-ruleset.js';
import { NftRunner } from './nft-runner.js';

export class NftGuard implements PortGuard {
  constructor(private readonly nft: Pick<NftRunner, 'apply' | 'list'>) {}

  static at(netns: string | undefined): NftGuard {
    return new NftGuard(new NftRunner({ ...(netns === undefined ? {} : { netns }), keepContext: true }));
  }

  async replace(ports: readonly GuardedPort[], policed: readonly string[], noIp6: readonly string[]): Promise<void> {
    await this.nft.apply(renderGuard(ports, policed, noIp6));
  }

  async update(add: readonly GuardedPort[], remove: readonly GuardedPort[], policed?: IfnameChange, noIp6?: IfnameChange): Promise<void> {
    const doc = diffGuard(add, remove, policed, noIp6);
    if (doc) await this.nft.apply(doc);
  }

  async spoofDrops(): Promise<Record<SpoofReason, number>> {
    return readSpoofDrops((await this.nft.list(GUARD_TABLE, GUARD_FAMILY)) ?? []);
  }
}
