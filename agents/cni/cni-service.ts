// CNI on the agent: the shim (runtime/cni/shim) relays each exec of the
// `weft` plugin here verbatim, environment and stdin, and prints what this
// returns. One table of commands over the agent's own services, so a CNI
// ADD is the same attach as `weft run`'s, with the same rollback.
import { inject, injectable } from 'inversify';
import type { CniCallParams, CniCallResult } from '../../model/agent-rpc.js';
import { CniError, cniErrorFromWeft, renderCniError } from '../../model/cni/cni-error.js';
import { parseCniRequest } from '../../model/cni/cni-request.js';
import { expectedAttachment, renderAddResult, versionResult, type ExpectedAttachment } from '../../model/cni/cni-result.js';
import { CNI_CODE, CNI_VERSIONS, LATEST_CNI_VERSION, type CniRequest } from '../../model/cni/cni-types.js';
import { WeftError, errorMessage, invalid, isWeftError, type FieldIssue } from '../../model/errors.js';
import { AGENT_LOGGER, HOST_HANDLE, type AgentLogger } from '../agent-config.js';
import { isNotFound } from '../datapath/errors.js';
import { DATAPATH_FACTORY, type DatapathFactory, type NetnsHandle } from '../datapath/port.js';
import { parseDetachParams } from '../endpoints/endpoint-params.js';
import { EndpointService } from '../endpoints/endpoint-service.js';
import { EndpointStore, type EndpointRecord } from '../state/endpoint-store.js';
import { PlanState } from '../state/plan-state.js';

/** The record's origin tag for attachments made through a CNI config of this name. */
const cniOrigin = (configName: string) => `cni:${configName}`;

const ok = (output: unknown): CniCallResult => ({ exitCode: 0, output });

/** The config's cniVersion when it is one we speak, for errors raised before the request is parsed. */
function versionOf(stdin: string): string {
  try {
    const v = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
    return typeof v === 'string' && (CNI_VERSIONS as readonly string[]).includes(v) ? v : LATEST_CNI_VERSION;
  } catch {
    return LATEST_CNI_VERSION;
  }
}

/** The `cni` RPC's own params: an object of CNI_* strings and the stdin text. */
export function parseCniCallParams(v: unknown): CniCallParams {
  const issues: FieldIssue[] = [];
  const o = (v ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'env' && k !== 'stdin') issues.push({ path: `/${k}`, message: `unknown field "${k}"`, allowed: 'env, stdin' });
  const env = o.env;
  if (env === null || typeof env !== 'object' || Array.isArray(env)) {
    issues.push({ path: '/env', message: 'must be an object of CNI_* variables' });
  } else {
    for (const [k, val] of Object.entries(env)) if (typeof val !== 'string') issues.push({ path: `/env/${k}`, message: 'must be string', value: val });
  }
  if (typeof o.stdin !== 'string') issues.push({ path: '/stdin', message: 'must be the network configuration as a string' });
  if (issues.length > 0) throw invalid(issues, 'cni parameters');
  return { env: env as Record<string, string>, stdin: o.stdin as string };
}

@injectable()
export class CniService {
  constructor(
    @inject(EndpointService) private readonly endpoints: EndpointService,
    @inject(EndpointStore) private readonly store: EndpointStore,
    @inject(PlanState) private readonly plan: PlanState,
    @inject(DATAPATH_FACTORY) private readonly datapath: DatapathFactory,
    @inject(HOST_HANDLE) private readonly host: NetnsHandle,
    @inject(AGENT_LOGGER) private readonly log: AgentLogger,
  ) {}

  /** One plugin exec. Never rejects for a CNI-level failure: that is an error object and exit 1. */
  async call(raw: unknown): Promise<CniCallResult> {
    const { env, stdin } = parseCniCallParams(raw);
    let version = versionOf(stdin);
    try {
      const req = parseCniRequest(env, stdin);
      version = req.cniVersion;
      return await this.run(req);
    } catch (e: unknown) {
      if (e instanceof CniError && env.CNI_COMMAND === 'DEL') {
        const cleaned = await this.bestEffortDel(env, e);
        if (cleaned) return ok(null);
      }
      const err = e instanceof CniError ? e : isWeftError(e) ? cniErrorFromWeft(e) : new CniError(CNI_CODE.Internal, 'weft agent failed', errorMessage(e));
      if (!(e instanceof CniError) && !isWeftError(e)) this.log.error({ err: errorMessage(e), command: env.CNI_COMMAND }, 'CNI call failed unexpectedly');
      this.log.info({ command: env.CNI_COMMAND, containerId: env.CNI_CONTAINERID, code: err.code, msg: err.msg }, 'CNI call refused');
      return { exitCode: 1, output: renderCniError(version, err) };
    }
  }

  /**
   * DEL is best effort (spec): a config or CNI_ARGS the ADD would have
   * refused must not keep an attachment alive. With a usable container ID
   * and interface name, detach that attachment and succeed.
   */
  private async bestEffortDel(env: Record<string, string>, refused: CniError): Promise<boolean> {
    const ifname = env.CNI_IFNAME;
    const containerId = env.CNI_CONTAINERID;
    // Without both, every interface of some container could go: the refusal stands.
    if (ifname === undefined || ifname === '' || containerId === undefined || containerId === '') return false;
    try {
      parseDetachParams({ containerId, ifname }, '');
    } catch {
      return true; // weft refuses such an ID or name at ADD: no attachment of weft's can have it
    }
    // Only what a CNI runtime attached: `weft run`'s endpoints are not a CNI DEL's to remove.
    const records = this.store.byContainer(containerId).filter((r) => r.ifname === ifname && (r.origin ?? '').startsWith('cni:'));
    for (const r of records) await this.endpoints.detach({ containerId, ifname, network: r.network });
    this.log.warn({ containerId, ifname, code: refused.code, msg: refused.msg }, 'CNI DEL with a config weft refuses: detached the attachment anyway');
    return true;
  }

  private async run(req: CniRequest): Promise<CniCallResult> {
    switch (req.command) {
      case 'VERSION':
        return ok(versionResult(req.inputVersion));
      case 'ADD':
        return ok(await this.add(req));
      case 'DEL':
        await this.endpoints.detach({ containerId: need(req.containerId), ifname: need(req.ifname), network: req.network });
        return ok(null);
      case 'CHECK':
        await this.check(req);
        return ok(null);
      case 'STATUS':
        this.status(req);
        return ok(null);
      case 'GC':
        await this.gc(req);
        return ok(null);
    }
  }

  private async add(req: CniRequest): Promise<unknown> {
    const params = { network: req.network, containerId: need(req.containerId), netns: need(req.netns), ifname: need(req.ifname), labels: req.labels };
    const a = await this.endpoints.attach(
      { ...params, ...(req.ip !== undefined ? { ip: req.ip } : {}), ...(req.mac !== undefined ? { mac: req.mac } : {}) },
      cniOrigin(req.configName),
    );
    const network = this.plan.network(a.network);
    // The host veth's MAC is the kernel's choice: the attach that made it
    // knows it; an earlier attach's is read back.
    const hostMac = a.hostMac ?? (await this.host.getLink(a.hostIfname))?.mac ?? '';
    return renderAddResult(req, {
      bridge: { name: network?.bridge ?? '', mac: network?.gatewayMac ?? '' },
      hostIfname: a.hostIfname,
      hostMac,
      ifname: a.ifname,
      mac: a.mac,
      mtu: a.mtu,
      netns: a.netns,
      address: a.address,
      gateway: a.gateway,
      ...(a.address6 === undefined || a.gateway6 === undefined ? {} : { address6: a.address6, gateway6: a.gateway6 }),
    });
  }

  /** Plugin readiness (1.1.0): a plan to attach from and the network in it. */
  private status(req: CniRequest): void {
    if (!this.plan.current()) {
      throw new CniError(CNI_CODE.NotAvailable, 'weft agent has no plan yet', 'the agent has not reached the controller and has no cached plan; check `weft agent` logs and the controller address');
    }
    if (!this.plan.network(req.network)) {
      throw new CniError(CNI_CODE.NotAvailable, `weft network "${req.network}" is not in this host's plan`, `create it (weft apply -f) or fix "network" in the CNI config "${req.configName}"`);
    }
  }

  /** Detach this config's attachments that the runtime no longer lists. */
  private async gc(req: CniRequest): Promise<void> {
    const valid = new Set((req.validAttachments ?? []).map((v) => `${v.containerId}\u0000${v.ifname}`));
    const origin = cniOrigin(req.configName);
    const stale = this.store
      .list({ network: req.network, state: 'attached' })
      .filter((r) => r.origin === origin && !valid.has(`${r.containerId}\u0000${r.ifname}`));
    const failures: string[] = [];
    for (const r of stale) {
      try {
        await this.endpoints.detach({ containerId: r.containerId, ifname: r.ifname, network: r.network });
      } catch (e: unknown) {
        failures.push(`${r.containerId}/${r.ifname}: ${errorMessage(e)}`);
      }
    }
    if (stale.length > 0) this.log.info({ network: req.network, config: req.configName, collected: stale.length - failures.length }, 'CNI GC detached stale attachments');
    if (failures.length > 0) throw new CniError(CNI_CODE.Internal, 'GC could not detach every stale attachment', failures.join('; '));
  }

  /** Compare the attachment with what ADD returned (prevResult) and with the kernel; report every drift at once. */
  private async check(req: CniRequest): Promise<void> {
    const containerId = need(req.containerId);
    const ifname = need(req.ifname);
    const netns = need(req.netns);
    const expected = expectedAttachment(req);
    if (!expected) {
      throw new CniError(CNI_CODE.InvalidConfig, 'CHECK needs the ADD result', `prevResult has no interface "${ifname}" in sandbox ${netns}: pass the result of the last ADD as prevResult`);
    }
    // The container first: without its namespace there is nothing to check
    // (and the record may already be swept), whatever weft remembers.
    const ns = await this.openContainer(netns);
    try {
      const record = this.store.byContainer(containerId).find((r) => r.ifname === ifname && r.state === 'attached');
      if (!record) throw new CniError(CNI_CODE.Drift, `weft has no attachment ${containerId}/${ifname}`, 'it was detached or never added: DEL and ADD it again');
      const drift = this.recordDrift(req, record, expected, netns);
      drift.push(...(await this.kernelDrift(record, ns)));
      if (drift.length > 0) throw new CniError(CNI_CODE.Drift, `${containerId}/${ifname} differs from what ADD made`, drift.join('; '));
    } finally {
      ns.close();
    }
  }

  private async openContainer(netns: string): Promise<NetnsHandle> {
    try {
      return await this.datapath.at(netns);
    } catch (e: unknown) {
      if (!isNotFound(e)) throw e;
      throw new CniError(CNI_CODE.UnknownContainer, `network namespace ${netns} does not exist`, 'the container is gone; DEL it');
    }
  }

  /** What the record says against the request and the ADD result. */
  private recordDrift(req: CniRequest, record: EndpointRecord, expected: ExpectedAttachment, netns: string): string[] {
    const drift: string[] = [];
    const ifname = record.ifname;
    if (record.network !== req.network) drift.push(`the attachment is on network "${record.network}", the config names "${req.network}"`);
    if (record.netns !== netns) drift.push(`the attachment was made in ${record.netns}, CNI_NETNS is ${netns}`);
    if (expected.mac !== undefined && expected.mac.toLowerCase() !== record.mac) drift.push(`prevResult says MAC ${expected.mac}, weft assigned ${record.mac}`);
    const addresses = [`${record.ip}/${record.prefixLength}`, ...(record.ip6 === undefined ? [] : [`${record.ip6}/${record.prefixLength6 ?? ''}`])];
    for (const address of addresses) if (!expected.addresses.includes(address)) drift.push(`prevResult does not list ${address} for ${ifname}`);
    return drift;
  }

  /** The host veth on its bridge, and the container's interface, address and default route. */
  private async kernelDrift(r: EndpointRecord, ns: NetnsHandle): Promise<string[]> {
    const drift: string[] = [];
    const hostLink = await this.host.getLink(r.hostIfname);
    const network = this.plan.network(r.network);
    if (!hostLink) drift.push(`host interface ${r.hostIfname} is missing`);
    else {
      if (!hostLink.up) drift.push(`host interface ${r.hostIfname} is down`);
      const bridge = network ? await this.host.getLink(network.bridge) : undefined;
      if (bridge && hostLink.master !== bridge.index) drift.push(`host interface ${r.hostIfname} is not on bridge ${bridge.name}`);
    }
    const link = await ns.getLink(r.ifname);
    if (!link) return [...drift, `interface ${r.ifname} is missing in ${ns.ns}`];
    if (link.mac.toLowerCase() !== r.mac) drift.push(`${r.ifname} has MAC ${link.mac}, expected ${r.mac}`);
    if (!link.up) drift.push(`${r.ifname} is down`);
    const addrs = await ns.listAddrs(link.index);
    if (!addrs.some((a) => a.address === r.ip && a.prefixLength === r.prefixLength)) drift.push(`${r.ifname} lacks address ${r.ip}/${r.prefixLength}`);
    const routes = await ns.listRoutes(4);
    if (!routes.some((rt) => rt.dst === 'default' && rt.gateway === r.gateway && (rt.oif === undefined || rt.oif === link.index))) {
      drift.push(`no default route via ${r.gateway} on ${r.ifname}`);
    }
    if (r.ip6 !== undefined) {
      if (!addrs.some((a) => a.address === r.ip6 && a.prefixLength === r.prefixLength6)) drift.push(`${r.ifname} lacks address ${r.ip6}/${r.prefixLength6 ?? ''}`);
      const routes6 = await ns.listRoutes(6);
      if (!routes6.some((rt) => rt.dst === 'default' && rt.gateway === r.gateway6 && (rt.oif === undefined || rt.oif === link.index))) {
        drift.push(`no IPv6 default route via ${r.gateway6 ?? ''} on ${r.ifname}`);
      }
    }
    return drift;
  }
}

/** Present by parseCniRequest's per-command checks; a miss is a bug here, not bad input. */
function need(v: string | undefined): string {
  if (v === undefined) throw new WeftError('Internal', 'CNI request lacks a field its command requires');
  return v;
}
