/**
 * Resolves `--auto-tls` / `--peer-auto-tls` into certificate files before the listeners start,
 * as etcd's Config.ClientSelfCert / PeerSelfCert (embed/config.go): when the side has no
 * `--cert-file/--key-file` (`--peer-...`), a self-signed certificate for the listen URLs' hosts is
 * made (or reused) under `<data-dir>/fixtures/client` or `<data-dir>/fixtures/peer`; when it has
 * them, the flag is ignored with etcd's warning.
 */
import { join } from "node:path";
import type { EtcdConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import { emptyTlsInfo, isTlsInfoEmpty, type TlsInfo } from "./tls-info.ts";

function hostsOf(urls: string[]): string[] {
  return urls.map((u) => new URL(u).host);
}

async function resolveSide(
  log: Logger,
  auto: boolean,
  info: TlsInfo,
  side: "client" | "peer",
  dataDir: string,
  listenUrls: string[],
  cipherSuites: string[],
  validityYears: number,
): Promise<TlsInfo> {
  if (!auto) return info;
  if (!isTlsInfoEmpty(info)) {
    log.warn(`ignoring ${side} auto TLS since certs given`);
    return info;
  }
  // Loaded here, not at start-up: @peculiar/x509 and its ASN.1 schemas cost about 2 MB of resident memory
  // (release binary, idle) that only --auto-tls / --peer-auto-tls need. The Reflect polyfill goes first: in the
  // bundled binary a lazily loaded module's imports are not evaluated in source order, and tsyringe (under x509)
  // throws at load without it.
  await import("reflect-metadata");
  const { selfCert } = await import("./self-cert.ts");
  const made = await selfCert(log, join(dataDir, "fixtures", side), hostsOf(listenUrls), validityYears);
  return { ...made, cipherSuites };
}

/**
 * Returns `cfg` with `clientTls`/`peerTls` replaced by self-signed certificates where the auto
 * flags ask for them (unchanged otherwise). Rejects when the files cannot be written.
 */
export async function resolveAutoTls(cfg: EtcdConfig, log: Logger): Promise<EtcdConfig> {
  const suites = cfg.cipherSuites ?? [];
  const years = cfg.selfSignedCertValidityYears ?? 1;
  return {
    ...cfg,
    clientTls: await resolveSide(log, cfg.clientAutoTls ?? false, cfg.clientTls ?? emptyTlsInfo(), "client", cfg.dataDir, cfg.listenClientUrls, suites, years),
    peerTls: await resolveSide(log, cfg.peerAutoTls ?? false, cfg.peerTls ?? emptyTlsInfo(), "peer", cfg.dataDir, cfg.listenPeerUrls, suites, years),
  };
}
