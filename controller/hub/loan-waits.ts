// Agent requests for a static address inside another host's block (a loan,
// controller/ipam/ipam.ts). The asking agent gets its answer only once the
// loan is decided: staticGranted when the block's owner confirmed the
// address free, requestFailed when the owner's own endpoint has it, the
// reservation went, the owner is not connected or goes away, or
// LOAN_CONFIRM_MS pass. Re-checked after every store commit.
import { LOAN_CONFIRM_MS } from '../../model/agent-protocol.js';
import { WeftError } from '../../model/errors.js';
import type { ReservationRow } from '../store/store.js';
import type { Logger } from '../util/logger.js';
import type { AgentHandler } from './agent-handler.js';
import type { AgentSession } from './agent-session.js';


export interface LoanRequest {
  requestId: string;
  network: string;
  ip: string;
  /** the container the address is for */
  owner: string;
}

interface LoanWait extends LoanRequest {
  session: AgentSession;
  host: string;
  timer?: NodeJS.Timeout;
}

export interface LoanWaitsDeps {
  handler: AgentHandler;
  /** Send the borrower its plan with the reservation, then staticGranted. */
  grant: (session: AgentSession, requestId: string, reservation: ReservationRow) => void;
  connected: (host: string) => boolean;
  log: Logger;
  timeoutMs?: number;
}

export class LoanWaits {
  private readonly waits = new Set<LoanWait>();

  constructor(private readonly deps: LoanWaitsDeps) {}

  /** Answer at once when the loan is already decided or cannot be; wait for the block's owner otherwise. */
  start(session: AgentSession, host: string, req: LoanRequest): void {
    const w: LoanWait = { ...req, session, host };
    const lender = this.settle(w);
    if (lender === undefined) return;
    if (!this.deps.connected(lender.host)) {
      this.fail(
        w,
        new WeftError(
          'NotReady',
          `${req.ip} is inside ${lender.cidr}, the address block of host "${lender.host}", which is not connected: only its agent can confirm the address is free there. Try again once it is connected, or pick an address outside its block`,
          { field: '/ip' },
        ),
      );
      return;
    }
    const ms = this.deps.timeoutMs ?? LOAN_CONFIRM_MS;
    w.timer = setTimeout(() => {
      if (!this.waits.has(w)) return;
      this.fail(w, new WeftError('NotReady', `host "${lender.host}" did not confirm within ${ms} ms that ${req.ip} (in its block ${lender.cidr}) is free; try again`, { field: '/ip' }));
    }, ms);
    w.timer.unref();
    this.waits.add(w);
    this.deps.log.info({ host, network: req.network, ip: req.ip, lender: lender.host }, 'static address inside another host\'s block: waiting for that host to confirm it');
  }

  /** After a commit: answer every request whose loan was decided. */
  recheck(): void {
    for (const w of [...this.waits]) this.settle(w);
  }

  /** A host's connection closed: its own requests are dropped, requests waiting for it fail. */
  disconnected(host: string): void {
    for (const w of [...this.waits]) {
      if (w.host === host) {
        this.finish(w);
        this.deps.handler.abandonLoan(w.host, w.network, w.ip, w.owner);
        continue;
      }
      const outcome = this.deps.handler.loanOutcome(w.host, w.network, w.ip, w.owner);
      if ('waitingFor' in outcome && outcome.waitingFor.host === host) {
        this.fail(w, new WeftError('NotReady', `host "${host}", whose block ${outcome.waitingFor.cidr} holds ${w.ip}, disconnected before it confirmed the address free; try again`, { field: '/ip' }));
      }
    }
  }

  close(): void {
    for (const w of this.waits) clearTimeout(w.timer);
    this.waits.clear();
  }

  /** Answer a decided request; returns the block's owner still to confirm otherwise. */
  private settle(w: LoanWait): { host: string; cidr: string } | undefined {
    const outcome = this.deps.handler.loanOutcome(w.host, w.network, w.ip, w.owner);
    if ('waitingFor' in outcome) return outcome.waitingFor;
    if ('error' in outcome) {
      this.fail(w, outcome.error);
      return undefined;
    }
    this.finish(w);
    this.deps.grant(w.session, w.requestId, outcome.granted);
    return undefined;
  }

  private fail(w: LoanWait, error: WeftError): void {
    this.finish(w);
    this.deps.handler.abandonLoan(w.host, w.network, w.ip, w.owner);
    this.deps.log.warn({ host: w.host, network: w.network, ip: w.ip, code: error.code }, error.message);
    w.session.send({ type: 'requestFailed', requestId: w.requestId, code: error.code, message: error.message });
  }

  private finish(w: LoanWait): void {
    clearTimeout(w.timer);
    this.waits.delete(w);
  }
}
