/**
 * The member's raised alarms (etcd's etcdserver/api/v3alarm/alarms.go AlarmStore): at most one
 * alarm of each type per member, kept in memory and in the `alarms` table (etcd's `alarm`
 * bucket). Changed only while applying an Alarm entry, inside the apply transaction, so every
 * member holds the same set; the table is carried in Raft snapshots with the other
 * state-machine tables (server/node/snapshot-restore.ts), and {@link AlarmStore.reload} reads it
 * again after one was installed.
 */
import type { Database, Statement } from "bun:sqlite";
import { create } from "@bufbuild/protobuf";
import { AlarmMemberSchema, AlarmType, type AlarmMember } from "../../proto/gen/etcdserverpb/rpc_pb.ts";

type Row = { member_id: string; alarm: number };

/** Alarms by type and member ID, with their rows in `alarms`. */
export class AlarmStore {
  private readonly byType = new Map<AlarmType, Map<bigint, AlarmMember>>();
  private readonly allStmt: Statement<Row, []>;
  private readonly addStmt: Statement<unknown, [string, number]>;
  private readonly delStmt: Statement<unknown, [string, number]>;

  /** `db` must have the schema (server/storage/schema.ts). Reads the stored alarms. */
  constructor(db: Database) {
    this.allStmt = db.query("SELECT member_id, alarm FROM alarms");
    this.addStmt = db.query("INSERT OR REPLACE INTO alarms (member_id, alarm) VALUES (?, ?)");
    this.delStmt = db.query("DELETE FROM alarms WHERE member_id = ? AND alarm = ?");
    this.reload();
  }

  /** Re-reads the table (after a Raft snapshot replaced it). */
  reload(): void {
    this.byType.clear();
    for (const r of this.allStmt.all()) this.remember(create(AlarmMemberSchema, { memberID: BigInt(r.member_id), alarm: r.alarm }));
  }

  private remember(m: AlarmMember): AlarmMember {
    let set = this.byType.get(m.alarm);
    if (!set) this.byType.set(m.alarm, (set = new Map()));
    const old = set.get(m.memberID);
    if (old) return old;
    set.set(m.memberID, m);
    return m;
  }

  /**
   * Raises alarm `type` for member `memberId` (uint64) and stores it; returns the alarm (the
   * existing one when it was raised already). Call inside the apply transaction.
   */
  activate(memberId: bigint, type: AlarmType): AlarmMember {
    const m = create(AlarmMemberSchema, { memberID: memberId, alarm: type });
    const kept = this.remember(m);
    if (kept === m) this.addStmt.run(memberId.toString(), type);
    return kept;
  }

  /** Clears alarm `type` of `memberId`; returns it, or undefined when it was not raised. */
  deactivate(memberId: bigint, type: AlarmType): AlarmMember | undefined {
    const set = this.byType.get(type);
    const m = set?.get(memberId);
    if (!set || !m) return undefined;
    set.delete(memberId);
    this.delStmt.run(memberId.toString(), type);
    return m;
  }

  /** Alarms of `type` (AlarmType.NONE: all), by type then member ID (etcd's order is a Go map's). */
  get(type: AlarmType = AlarmType.NONE): AlarmMember[] {
    const types = type === AlarmType.NONE ? [...this.byType.keys()].sort((a, b) => a - b) : [type];
    const out: AlarmMember[] = [];
    for (const t of types) {
      const set = this.byType.get(t);
      if (set) out.push(...[...set.values()].sort((a, b) => (a.memberID < b.memberID ? -1 : a.memberID > b.memberID ? 1 : 0)));
    }
    return out;
  }

  /** Whether any member has raised alarm `type`. */
  has(type: AlarmType): boolean {
    return (this.byType.get(type)?.size ?? 0) > 0;
  }
}

/** An alarm as Go prints it: `memberID:<decimal> alarm:<NAME> ` (cli/go/proto-text.ts). */
export { alarmMemberText as alarmString } from "../../cli/go/proto-text.ts";
