/**
 * The simulated peer network: every Raft message is encoded as the real transport would send it
 * (server/raft/wire.ts) and delivered as a scheduler task after a random delay, so messages
 * reorder; a message may also be lost or duplicated, and partitions cut pairs of members in both
 * directions. Each member gets a {@link RaftMessageSink} like the real transport's.
 */
import type { Prng } from "../raft/prng.ts";
import { decodeMessage, encodeMessage } from "../raft/message-codec.ts";
import { MessageType, type Message } from "../raft/types.ts";
import type { RaftMessageSink } from "../node/peer-link.ts";
import type { Owner, SimScheduler } from "./scheduler.ts";

/** Fault rates of the network (probabilities per message). */
export interface NetworkFaults {
  loss: number;
  duplicate: number;
  /** A message takes 1..maxDelayMs ms; with probability `slow` up to 10x longer. */
  maxDelayMs: number;
  slow: number;
}

/** Where messages for a member go while it runs. */
export interface Endpoint {
  owner: Owner;
  step(m: Message): void;
}

export class SimNetwork {
  private readonly endpoints = new Map<bigint, Endpoint>();
  /** Cut links, both directions: member ID -> the members it cannot reach. */
  private readonly cut = new Map<bigint, Set<bigint>>();
  /** Test hook: a message for which it returns true is dropped. */
  filter: ((m: Message) => boolean) | undefined;
  faults: NetworkFaults = { loss: 0, duplicate: 0, maxDelayMs: 5, slow: 0 };
  delivered = 0;
  dropped = 0;
  /** MsgSnap delivered. */
  snapshots = 0;
  /** Forwarded proposals (MsgProp) sent twice. */
  duplicatedProposals = 0;
  /**
   * The snapshot side channel of the real transport: the sender's image of a MsgSnap, and the
   * receiver's file it is written to (returns the message to step, data filled in). Undefined
   * when the member is not running.
   */
  snapshotIO: {
    image(from: bigint): Promise<Uint8Array> | undefined;
    receive(to: bigint, m: Message, data: Uint8Array): Promise<Message> | undefined;
  } | undefined;

  constructor(
    private readonly sched: SimScheduler,
    private readonly prng: Prng,
  ) {}

  /** Member `id` runs and receives through `ep` (replaces a crashed incarnation's). */
  attach(id: bigint, ep: Endpoint): void {
    this.endpoints.set(id, ep);
  }

  detach(id: bigint): void {
    this.endpoints.delete(id);
  }

  /** Cuts (or heals, `on` false) the link between `a` and `b`. */
  partition(a: bigint, b: bigint, on: boolean): void {
    for (const [x, y] of [[a, b], [b, a]] as const) {
      let set = this.cut.get(x);
      if (on) {
        if (!set) this.cut.set(x, (set = new Set()));
        set.add(y);
      } else {
        set?.delete(y);
        if (set?.size === 0) this.cut.delete(x);
      }
    }
  }

  heal(): void {
    this.cut.clear();
  }

  isCut(a: bigint, b: bigint): boolean {
    return this.cut.get(a)?.has(b) ?? false;
  }

  /**
   * The sink of the member whose ID `self()` returns; `reportSnapshot` hears whether each MsgSnap it sent
   * arrived (the real transport's ReportSnapshot).
   */
  sink(self: () => bigint, reportSnapshot?: (to: bigint, ok: boolean) => void): RaftMessageSink {
    return {
      send: (msgs) => {
        for (const m of msgs) this.sendOne(self(), m, reportSnapshot);
      },
      activeSince: (id) => (this.endpoints.has(id) && !this.isCut(self(), id) ? 0 : undefined),
    };
  }

  private sendOne(from: bigint, m: Message, reportSnapshot?: (to: bigint, ok: boolean) => void): void {
    const snap = m.type === MessageType.MsgSnap;
    if (this.isCut(from, m.to) || this.prng.chance(this.faults.loss) || this.filter?.(m)) {
      this.dropped++;
      if (snap) this.sched.at(1, () => reportSnapshot?.(m.to, false));
      return;
    }
    const bytes = encodeMessage(m);
    // A MsgSnap's image is read when it is sent (real file I/O: the simulated world waits for it).
    let image: Uint8Array | undefined;
    if (snap && this.snapshotIO) {
      const read = this.snapshotIO.image(from);
      if (read) this.sched.hold(read.then((d) => void (image = d)));
    }
    // Any message may arrive twice, a forwarded proposal (MsgProp) too: its copy becomes a second
    // entry with the same request ID, which the state machine skips (server/node/applied-requests.ts).
    const dup = this.prng.chance(this.faults.duplicate);
    if (dup && m.type === MessageType.MsgProp) this.duplicatedProposals++;
    const copies = dup ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      let delay = 1 + this.prng.int(this.faults.maxDelayMs);
      if (this.prng.chance(this.faults.slow)) delay *= 10;
      this.sched.at(delay, () => {
        const ep = this.endpoints.get(m.to);
        // Links cut while the message was in flight lose it too.
        if (!ep || this.isCut(from, m.to)) {
          this.dropped++;
          if (snap && i === 0) reportSnapshot?.(m.to, false);
          return;
        }
        this.delivered++;
        if (snap && this.snapshotIO) {
          const received = image && this.snapshotIO.receive(m.to, decodeMessage(bytes), image);
          if (!received) {
            if (i === 0) reportSnapshot?.(m.to, false);
            return;
          }
          this.sched.hold(
            received.then(
              (msg) => {
                if (this.endpoints.get(m.to) !== ep) return;
                ep.step(msg);
                this.snapshots++;
                if (i === 0) reportSnapshot?.(m.to, true);
              },
              () => i === 0 && reportSnapshot?.(m.to, false),
            ),
          );
          return;
        }
        ep.step(decodeMessage(bytes));
        if (snap) this.snapshots++;
        if (snap && i === 0) reportSnapshot?.(m.to, true);
      });
    }
  }
}
