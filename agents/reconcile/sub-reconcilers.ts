// The sub-reconcilers of the agent's reconcile loop, in the order a full
// pass runs them: isolation covers every bridge first; policies and the
// anti-spoofing guard are in force before anything else changes; endpoints
// whose namespace is gone are detached; then the host's networks (bridges, VXLAN devices, entries, ports); then the VNFs
// whose interfaces hang on those bridges; then the endpoint routes through
// them. A new concern registers here.
import type { Newable } from 'inversify';
import { EndpointReaper } from './endpoint-reaper.js';
import { EndpointRouteReconciler } from './endpoint-route-reconciler.js';
import { IsolationReconciler } from './isolation-reconciler.js';
import { NetworkReconciler } from './network-reconciler.js';
import { PolicyReconciler } from './policy-reconciler.js';
import type { SubReconciler } from './sub-reconciler.js';
import { VnfReconciler } from './vnf-reconciler.js';

export const SUB_RECONCILER_CLASSES: ReadonlyArray<Newable<SubReconciler>> = [
  IsolationReconciler,
  PolicyReconciler,
  EndpointReaper,
  NetworkReconciler,
  VnfReconciler,
  EndpointRouteReconciler,
];
