// The host's underlay: the VTEP address its VXLAN devices send from and the
// device and MTU that hold it. The address is the --underlay-address option
// when given, else the local address of the agent's connection to the
// controller (the address the controller, and so the other hosts, reach
// this one at). A learned address is remembered in the store, so an agent
// restarted while the controller is unreachable can still create devices.
import { inject, injectable } from 'inversify';
import { errorMessage } from '../../model/errors.js';
import { isIPv4 } from '../../model/ip.js';
import { AGENT_CONFIG, AGENT_LOGGER, HOST_HANDLE, type AgentConfig, type AgentLogger } from '../agent-config.js';
import type { NetnsHandle } from '../datapath/port.js';
import type { Vtep } from '../reconcile/overlay-diff.js';
import { EndpointStore } from '../state/endpoint-store.js';

const LEARNED_KEY = 'underlayAddress';

/** A socket's local address as plain IPv4 (a dual-stack socket reports ::ffff:a.b.c.d), or undefined. */
export function plainIPv4(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return isIPv4(v4) ? v4 : undefined;
}

@injectable()
export class Underlay {
  private vtep: Vtep | undefined;
  private readonly listeners = new Set<(vtep: Vtep) => void>();

  constructor(
    @inject(AGENT_CONFIG) private readonly config: Pick<AgentConfig, 'underlayAddress'>,
    @inject(HOST_HANDLE) private readonly host: NetnsHandle,
    @inject(EndpointStore) private readonly store: EndpointStore,
    @inject(AGENT_LOGGER) private readonly log: AgentLogger,
  ) {}

  /** The VTEP, once an address is known. */
  current(): Vtep | undefined {
    return this.vtep;
  }

  /** Told when the VTEP (address, device or MTU) changes; VXLAN devices then need replacing. */
  onChange(listener: (vtep: Vtep) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Start-up: the configured address, else the one learned last time. */
  async init(): Promise<Vtep | undefined> {
    const address = this.config.underlayAddress ?? this.store.getMeta(LEARNED_KEY);
    return address === undefined ? undefined : this.resolve(address);
  }

  /**
   * A controller connection is up with this local address: it is the VTEP
   * unless one is configured. Re-reads the device and MTU either way (they
   * go into the hello).
   */
  async learn(localAddress: string | undefined): Promise<Vtep | undefined> {
    if (this.config.underlayAddress !== undefined) return this.resolve(this.config.underlayAddress);
    const address = plainIPv4(localAddress);
    if (address === undefined) {
      if (localAddress !== undefined) {
        this.log.warn({ localAddress }, 'the controller connection is not over IPv4; set --underlay-address for the VXLAN overlay');
      }
      return this.vtep;
    }
    if (this.store.getMeta(LEARNED_KEY) !== address) this.store.putMeta(LEARNED_KEY, address);
    return this.resolve(address);
  }

  private async resolve(address: string): Promise<Vtep> {
    let owner: { index: number; name: string; mtu: number } | undefined;
    // A loopback "underlay" (a controller on the same machine, reached over
    // 127.0.0.1) carries no VXLAN to other hosts: no lower device, and lo's
    // 64 KiB MTU must not become the overlay's (the controller then derives
    // the MTU from a 1500-byte underlay).
    const loopback = address.startsWith('127.');
    if (!loopback) {
      try {
        owner = await this.host.findAddressOwner(address);
      } catch (e: unknown) {
        this.log.warn({ address, err: errorMessage(e) }, 'cannot look up the underlay device');
      }
    }
    const next: Vtep = { address };
    if (owner) {
      next.index = owner.index;
      next.mtu = owner.mtu;
    } else if (!loopback) {
      this.log.warn({ address }, 'no interface of the host namespace holds the underlay address; VXLAN devices get no lower device');
    }
    const prev = this.vtep;
    this.vtep = next;
    if (!prev || prev.address !== next.address || prev.index !== next.index || prev.mtu !== next.mtu) {
      this.log.info({ address, device: owner?.name, mtu: owner?.mtu }, 'underlay (VTEP) resolved');
      for (const l of this.listeners) l(next);
    }
    return next;
  }
}
