import { EtcdClient } from "/work/wt/cli/cli/client.ts";
import { clientTlsFromFlags } from "/work/wt/cli/cli/tls.ts";
import { ConnectError } from "@connectrpc/connect";
const cases: Record<string, any> = {
  noclient: { cacert: "/tmp/etcd-test-certs-C2HgqH/ca.pem", cert: "", key: "" },
  otherca: { cacert: "/tmp/etcd-test-certs-C2HgqH/other-ca.pem", cert: "/tmp/etcd-test-certs-C2HgqH/client.pem", key: "/tmp/etcd-test-certs-C2HgqH/client-key.pem" },
};
for (const [name, f] of Object.entries(cases)) {
  for (const ep of ["https://127.0.0.1:23792", "http://127.0.0.1:23792", "https://127.0.0.1:23791"]) {
  const tls = clientTlsFromFlags({ ...f, insecureTransport: true, insecureSkipVerify: false });
  const c = new EtcdClient({ endpoints: [ep], commandTimeoutMs: 1000, keepAliveTimeMs: 2000, keepAliveTimeoutMs: 6000, tls });
  const s = (c as any).servicesFor(ep);
  try { await s.kv.range({ key: new Uint8Array([97]) }, { timeoutMs: 1000 }); console.log(name, ep, "ok"); }
  catch (e) { const ce = e as ConnectError; console.log(name, ep, ce.code, ce.rawMessage, (ce.cause as any)?.code, (ce.cause as any)?.constructor?.name, ce.metadata.has("grpc-status")); }
  }
}
process.exit(0);
