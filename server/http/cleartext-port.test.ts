import { afterEach, expect, test } from "bun:test";
import * as net from "node:net";
import { startsWithHttp2Preface, startsWithTlsHandshake } from "./cleartext-port.ts";

const open: net.Server[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

/**
 * A server that runs `sniff` on each accepted socket; resolves with the port and the outcome
 * of the first connection: its result, or "closed" (with when, performance.now() ms).
 */
async function sniffServer(sniff: (s: net.Socket) => Promise<boolean>) {
  let report!: (r: { outcome: boolean | "closed"; at: number }) => void;
  const first = new Promise<{ outcome: boolean | "closed"; at: number }>((r) => (report = r));
  const server = net.createServer((socket) => {
    socket.on("close", () => report({ outcome: "closed", at: performance.now() }));
    void sniff(socket).then((outcome) => report({ outcome, at: performance.now() }));
  });
  open.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { port: (server.address() as net.AddressInfo).port, first };
}

function connectAndWrite(port: number, bytes: string | Buffer): net.Socket {
  const c = net.connect({ host: "127.0.0.1", port }, () => c.write(bytes));
  c.on("error", () => {});
  return c;
}

for (const [name, sniff, partial, whole, expected] of [
  ["startsWithHttp2Preface", startsWithHttp2Preface, "PRI * HTTP/2.0\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", true],
  ["startsWithTlsHandshake", startsWithTlsHandshake, "", Buffer.from([0x16, 0x03, 0x01]), true],
] as const) {
  test(`${name}: a connection that stays silent (or stops mid-preface) is closed after the timeout`, async () => {
    const { port, first } = await sniffServer((s) => sniff(s, 300));
    const t0 = performance.now();
    const c = connectAndWrite(port, partial);
    const r = await Promise.race([first, Bun.sleep(5_000).then(() => ({ outcome: "timeout", at: 0 }))]);
    expect(r.outcome).toBe("closed");
    expect(r.at - t0).toBeGreaterThan(250);
    c.destroy();
  });

  test(`${name}: a connection that shows what it speaks in time is decided and not closed later`, async () => {
    const { port, first } = await sniffServer((s) => sniff(s, 300));
    const c = connectAndWrite(port, whole);
    expect((await first).outcome).toBe(expected);
    await Bun.sleep(500);
    expect(c.destroyed || c.readyState !== "open").toBe(false);
    c.destroy();
  });
}
