/**
 * One-line descriptions of Raft values for transcripts: entries as `term/index type payload`,
 * messages as `from->to MsgType term=… log=logTerm/index commit=… entries=[…]` (only the fields
 * the message carries), a Ready as an indented list of what the application must persist, apply
 * and send. Stable text: transcripts compare it line by line.
 */
import type { Ready } from "../node.ts";
import { ConfChangeType, type ConfState, type Entry, EntryType, type Message, MessageType, StateType } from "../types.ts";
import { decodeConfChange } from "../wire.ts";

const decoder = new TextDecoder();

/** `(1 2 3)`: node IDs in ascending order. */
export function describeIds(ids: readonly bigint[]): string {
  return `(${[...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join(" ")})`;
}

/** `voters=(1 2 3) learners=(4)`. */
export function describeConfState(cs: ConfState): string {
  return `voters=${describeIds(cs.voters)} learners=${describeIds(cs.learners)}`;
}

const CONF_CHANGE_WORD: Record<number, string> = {
  [ConfChangeType.ConfChangeAddNode]: "add",
  [ConfChangeType.ConfChangeRemoveNode]: "remove",
  [ConfChangeType.ConfChangeUpdateNode]: "update",
  [ConfChangeType.ConfChangeAddLearnerNode]: "add-learner",
};

/** `1/3 EntryNormal "data"`, `1/4 EntryConfChange add-learner 4`, `2/5 EntryNormal` (a no-op). */
export function describeEntry(e: Entry): string {
  const head = `${e.term}/${e.index} ${EntryType[e.type]}`;
  if (e.type === EntryType.EntryConfChange) {
    const cc = decodeConfChange(e.data);
    return `${head} ${CONF_CHANGE_WORD[cc.type] ?? cc.type} ${cc.nodeId}`;
  }
  return e.data.length === 0 ? head : `${head} ${JSON.stringify(decoder.decode(e.data))}`;
}

/** A message with the fields its type carries; zero fields are left out. */
export function describeMessage(m: Message): string {
  const parts = [`${m.from}->${m.to} ${MessageType[m.type]} term=${m.term}`];
  if (m.logTerm !== 0 || m.index !== 0) parts.push(`log=${m.logTerm}/${m.index}`);
  if (m.commit !== 0) parts.push(`commit=${m.commit}`);
  if (m.reject) parts.push(`rejected hint=${m.rejectHint}`);
  if (m.entries.length > 0) parts.push(`entries=[${m.entries.map(describeEntry).join(", ")}]`);
  if (m.snapshot && m.snapshot.metadata.index !== 0) {
    const md = m.snapshot.metadata;
    parts.push(`snapshot=${md.term}/${md.index} ${describeConfState(md.confState)}`);
  }
  if (m.context.length > 0) parts.push(`ctx=${JSON.stringify(decoder.decode(m.context))}`);
  return parts.join(" ");
}

/** The Ready's parts, each on its own indented lines; empty parts are left out. */
export function describeReady(rd: Ready): string[] {
  const out = [`  Ready mustSync=${rd.mustSync}:`];
  if (rd.softState) out.push(`  State: ${StateType[rd.softState.raftState]} lead=${rd.softState.lead}`);
  if (rd.hardState) out.push(`  HardState: term=${rd.hardState.term} vote=${rd.hardState.vote} commit=${rd.hardState.commit}`);
  if (rd.snapshot) {
    const md = rd.snapshot.metadata;
    out.push(`  Snapshot: ${md.term}/${md.index} ${describeConfState(md.confState)}`);
  }
  const list = (title: string, lines: string[]) => {
    if (lines.length === 0) return;
    out.push(`  ${title}:`);
    for (const l of lines) out.push(`    ${l}`);
  };
  list("Entries", rd.entries.map(describeEntry));
  list("Committed", rd.committedEntries.map(describeEntry));
  list("Messages", rd.messages.map(describeMessage));
  list("ReadStates", rd.readStates.map((s) => `index=${s.index} ctx=${JSON.stringify(decoder.decode(s.requestCtx))}`));
  return out;
}
