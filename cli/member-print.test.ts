/**
 * Printers of the membership commands on fixed responses, for what the live comparison with
 * etcdctl rarely meets: IDs shorter than 16 hex digits (Go's `%16x` pads with spaces, `%x` does
 * not), member order in `ETCD_INITIAL_CLUSTER`, and member IDs / peer URLs that Go rejects.
 * Expected texts were printed by etcdctl 3.4.23.
 */
import { describe, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import {
  MemberAddResponseSchema,
  MemberPromoteResponseSchema,
  MemberRemoveResponseSchema,
  MemberUpdateResponseSchema,
  MoveLeaderResponseSchema,
} from "../proto/gen/etcdserverpb/rpc_pb.ts";
import { checkedPeerUrls, memberIdFromArgs } from "./commands/member.ts";
import { captureOutput } from "./output.ts";
import { newPrinter } from "./print/index.ts";

const CLUSTER = 0xd88217f8383c5a19n;

/** What printer `format` writes to stdout for `print`. */
async function printed(format: string, print: (p: ReturnType<typeof newPrinter>) => void): Promise<string> {
  const { out, stdout } = captureOutput();
  print(newPrinter(format, false, out));
  await out.flush();
  return new TextDecoder().decode(stdout());
}

describe("membership printers", () => {
  const add = create(MemberAddResponseSchema, {
    header: { clusterId: CLUSTER, memberId: 0xd85936ef51297d97n, raftTerm: 7n },
    member: { ID: 0xb8b942d1180a58dn, peerURLs: ["http://127.0.0.1:47107"], isLearner: true },
    members: [
      { ID: 0xb8b942d1180a58dn, peerURLs: ["http://127.0.0.1:47107"], isLearner: true },
      { ID: 0xb86a7e42c3e1c4ccn, name: "m3", peerURLs: ["http://127.0.0.1:47105"], clientURLs: ["http://127.0.0.1:47106"] },
      { ID: 0xd85936ef51297d97n, name: "m1", peerURLs: ["http://127.0.0.1:47101"], clientURLs: ["http://127.0.0.1:47102"] },
    ],
  });

  test("member add (simple): %16x IDs, then the ETCD_* lines with the new member named", async () => {
    expect(await printed("simple", (p) => p.memberAdd(add, "n4", "http://127.0.0.1:47107"))).toBe(
      "Member  b8b942d1180a58d added to cluster d88217f8383c5a19\n" +
        "\n" +
        'ETCD_NAME="n4"\n' +
        'ETCD_INITIAL_CLUSTER="n4=http://127.0.0.1:47107,m3=http://127.0.0.1:47105,m1=http://127.0.0.1:47101"\n' +
        'ETCD_INITIAL_ADVERTISE_PEER_URLS="http://127.0.0.1:47107"\n' +
        'ETCD_INITIAL_CLUSTER_STATE="existing"\n',
    );
  });

  test("remove/update/promote (simple) pad the member ID; move-leader does not", async () => {
    const header = { header: { clusterId: CLUSTER } };
    const promoted = create(MemberPromoteResponseSchema, header);
    const id = 0xb8b942d1180a58dn;
    expect(await printed("simple", (p) => p.memberRemove(id, create(MemberRemoveResponseSchema, header)))).toBe(
      "Member  b8b942d1180a58d removed from cluster d88217f8383c5a19\n",
    );
    expect(await printed("simple", (p) => p.memberUpdate(id, create(MemberUpdateResponseSchema, header)))).toBe(
      "Member  b8b942d1180a58d updated in cluster d88217f8383c5a19\n",
    );
    expect(await printed("simple", (p) => p.memberPromote(id, promoted))).toBe(
      "Member  b8b942d1180a58d promoted in cluster d88217f8383c5a19\n",
    );
    const moved = create(MoveLeaderResponseSchema, {});
    expect(await printed("simple", (p) => p.moveLeader(0xd85936ef51297d97n, id, moved))).toBe(
      "Leadership transferred from d85936ef51297d97 to b8b942d1180a58d\n",
    );
    expect(await printed("json", (p) => p.moveLeader(0xd85936ef51297d97n, id, moved))).toBe("{}\n");
  });

  test("fields and table refuse member add (exit 4); every format but simple panics on promote (exit 2)", async () => {
    for (const format of ["fields", "table"]) {
      await expect(printed(format, (p) => p.memberAdd(add, "n4", ""))).rejects.toThrow(`${format} not supported as output format`);
    }
    for (const format of ["json", "fields", "table", "protobuf"]) {
      await expect(printed(format, (p) => p.memberPromote(1n, create(MemberPromoteResponseSchema)))).rejects.toThrow(
        "panic: runtime error: invalid memory address or nil pointer dereference",
      );
    }
  });
});

describe("member ID and peer URL arguments", () => {
  test("IDs are unsigned hex", () => {
    expect(memberIdFromArgs(["B8B942D1180A58D"])).toBe(0xb8b942d1180a58dn);
    expect(memberIdFromArgs(["ffffffffffffffff"])).toBe(2n ** 64n - 1n);
    expect(() => memberIdFromArgs(["-1"])).toThrow('bad member ID arg (strconv.ParseUint: parsing "-1": invalid syntax), expecting ID in Hex');
    expect(() => memberIdFromArgs(["10000000000000000"])).toThrow("value out of range");
    expect(() => memberIdFromArgs([])).toThrow("member ID is not provided");
  });

  test("peer URLs as types.NewURLs", () => {
    expect(checkedPeerUrls("http://127.0.0.1:1, HTTPS://[::1]:2")).toEqual(["http://127.0.0.1:1", " HTTPS://[::1]:2"]);
    expect(() => checkedPeerUrls("http://127.0.0.1:1/")).toThrow("URL must not contain a path: http://127.0.0.1:1/");
    expect(() => checkedPeerUrls("127.0.0.1:2380")).toThrow('parse "127.0.0.1:2380": first path segment in URL cannot contain colon');
    expect(() => checkedPeerUrls("http://h")).toThrow('URL address does not have the form "host:port": http://h');
  });
});
