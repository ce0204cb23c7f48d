// PolicyTable on the real kernel: the documents of policy-ruleset.ts applied
// with nft in the agent's host namespace. Each call is one nft transaction.
import type { ElementCounter, PolicyModel } from '../policy-model.js';
import type { PolicyTable } from '../policy-table-port.js';
import { ensureBridgeNetfilter } from '../bridge-netfilter.js';
import { NftRunner } from './nft-runner.js';
import { POLICY_FAMILY, POLICY_TABLE, diffPolicyTable, hasPolicyTable, readElementCounters, renderPolicyTable } from './policy-ruleset.js';

export class NftPolicyTable implements PolicyTable {
  constructor(
    private readonly nft: Pick<NftRunner, 'apply' | 'list'>,
    private readonly logGroup?: number,
    private readonly netns?: string,
  ) {}

  static at(netns: string | undefined, logGroup?: number): NftPolicyTable {
    return new NftPolicyTable(new NftRunner({ ...(netns === undefined ? {} : { netns }), keepContext: true }), logGroup, netns);
  }

  bridgeFilterProblem(): Promise<string | undefined> {
    return ensureBridgeNetfilter(this.netns);
  }

  async replace(model: PolicyModel): Promise<void> {
    await this.nft.apply(renderPolicyTable(model, this.logGroup));
  }

  async update(from: PolicyModel, to: PolicyModel): Promise<void> {
    const doc = diffPolicyTable(from, to, this.logGroup);
    if (doc) await this.nft.apply(doc);
  }

  async counters(model: PolicyModel): Promise<ElementCounter[]> {
    return readElementCounters((await this.nft.list(POLICY_TABLE, POLICY_FAMILY)) ?? [], model);
  }

  async exists(): Promise<boolean> {
    const listing = await this.nft.list(POLICY_TABLE, POLICY_FAMILY);
    return listing !== undefined && hasPolicyTable(listing);
  }
}
