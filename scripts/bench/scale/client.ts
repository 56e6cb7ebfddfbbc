/**
 * The scaling run's client of one server: KV, Watch and Maintenance over one HTTP/2 connection (connect-node), plus
 * the pre-written key set every step shares: `scale/00000000`, `scale/00000001`... (14 bytes), `--val-size` values.
 */
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { KV, Maintenance, Watch } from "../../../proto/gen/etcdserverpb/rpc_pb.ts";

const utf8 = new TextEncoder();

/** Prefix of the loaded keys. */
export const KEY_PREFIX = "scale/";

/** Key number `n` of the loaded set, e.g. `scale/00000042`. */
export function scaleKey(n: number): Uint8Array {
  return utf8.encode(KEY_PREFIX + String(n).padStart(8, "0"));
}

/** One connection's clients; close() ends the connection. */
export class ScaleClient {
  private readonly sessions: Http2SessionManager;
  readonly kv: Client<typeof KV>;
  readonly watch: Client<typeof Watch>;
  readonly maintenance: Client<typeof Maintenance>;

  constructor(
    /** gRPC endpoint, e.g. "http://127.0.0.1:41234". */
    readonly endpoint: string,
  ) {
    this.sessions = new Http2SessionManager(endpoint);
    const transport = createGrpcTransport({ baseUrl: endpoint, sessionManager: this.sessions, readMaxBytes: 256 << 20, writeMaxBytes: 256 << 20 });
    this.kv = createClient(KV, transport);
    this.watch = createClient(Watch, transport);
    this.maintenance = createClient(Maintenance, transport);
  }

  /** The server's current revision (from a serializable Range's header). */
  async revision(): Promise<bigint> {
    const r = await this.kv.range({ key: utf8.encode("scale-revision-probe"), serializable: true });
    return r.header!.revision;
  }

  /** Closes the connection. */
  close(): void {
    this.sessions.abort();
  }
}
