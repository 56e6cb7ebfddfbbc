import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ResponseHeaderSchema } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import { Election, LeaderResponseSchema } from "../../proto/gen/v3electionpb/v3election_pb.ts";
import { serveStream, type StreamRoute } from "./gateway-stream.ts";

const post = (body: string) => new Request("http://x/v3/election/observe", { method: "POST", body });

function route(open: StreamRoute["open"]): StreamRoute {
  const method = Election.method.observe;
  return { method, input: method.input, output: method.output, open };
}

test("messages go out one line each; a failure after the first is grpc-gateway's StreamError line", async () => {
  const res = await serveStream(
    route(async function* () {
      yield create(LeaderResponseSchema, { header: create(ResponseHeaderSchema, { revision: 7n }) });
      throw new ConnectError("etcdserver: no leader", Code.Unavailable);
    }),
    post('{"name":"ZQ=="}'),
  );
  expect(res.status).toBe(200);
  expect(await res.text()).toBe(
    '{"result":{"header":{"revision":"7"}}}\n' +
      '{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}}\n',
  );
});

test("a failure before the first message answers like a unary call; bad JSON is refused before the handler runs", async () => {
  let opened = 0;
  const failing = route(() => {
    opened++;
    throw new ConnectError("unknown method Snapshot for service etcdserverpb.Maintenance", Code.Unimplemented);
  });
  const res = await serveStream(failing, post("{}"));
  expect([res.status, await res.text()]).toEqual([
    501,
    JSON.stringify({ error: "unknown method Snapshot for service etcdserverpb.Maintenance", message: "unknown method Snapshot for service etcdserverpb.Maintenance", code: 12 }),
  ]);
  const bad = await serveStream(failing, post("[]"));
  expect(bad.status).toBe(400);
  expect(opened).toBe(1);
});
