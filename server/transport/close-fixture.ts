/**
 * Run by transport.test.ts as its own process: starts two transports, streams and sends a snapshot
 * between them, lets a third peer (down) sit in back-off, closes both, prints `closed` and then must
 * exit by itself: any socket, session or timer left behind keeps it alive and fails the test.
 */
import { freePort } from "../http/test-util.ts";
import { MessageType, makeMessage } from "../raft/types.ts";
import { connect, numbered, recordedTransport, until } from "./testing.ts";

const a = await recordedTransport(1n);
const b = await recordedTransport(2n);
await connect(a, b);
a.t.addPeer(3n, [`http://127.0.0.1:${await freePort()}`]);
a.t.send([numbered(1n, 2n, 1), numbered(1n, 3n, 1)]);
a.t.send([makeMessage({ type: MessageType.MsgSnap, from: 1n, to: 2n, snapshot: { data: new Uint8Array(3 << 20), metadata: { index: 1, term: 1, confState: { voters: [1n, 2n], learners: [] } } } })]);
await until(() => b.got.length === 2 && a.unreachable.includes(3n) && a.snapshots.length === 1, "traffic");
await Promise.all([a.t.close(), b.t.close()]);
console.log("closed");
