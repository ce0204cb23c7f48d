// Controller events, kubectl-style: what happened to a resource, when, and
// how often. Shared by the controller's GET /api/v1/events and the CLI.
import type { Kind } from './kinds.js';

export type EventType = 'Normal' | 'Warning';

export interface WeftEvent {
  /** ISO time of the last occurrence. */
  time: string;
  /** ISO time of the first occurrence of this (repeated) event. */
  firstTime: string;
  type: EventType;
  /** One CamelCase word: Created, Configured, Deleted, Attached, Detached, NotReady, ... */
  reason: string;
  message: string;
  involved: { kind: Kind; name: string };
  /** How many times this event happened in a row (same type, reason and message). */
  count: number;
}

export interface EventList {
  apiVersion: string;
  kind: 'EventList';
  /** Oldest first, like kubectl describe. */
  items: WeftEvent[];
}

/** What `record` takes: the time defaults to now. */
export interface EventInput {
  type: EventType;
  reason: string;
  message: string;
  involved: { kind: Kind; name: string };
  time?: number;
}
