/**
 * Test certificates made with the `openssl` command (OpenSSL 3): a trusted CA and a second,
 * untrusted one; a server certificate for 127.0.0.1/localhost; client certificates that are
 * valid, expired, revoked (with the CA's CRL) or signed by the untrusted CA; peer certificates
 * with chosen common names, one from the untrusted CA and a revoked one. Every leaf has both serverAuth and clientAuth key usages (etcd's
 * peers use one certificate both ways) and SAN IP:127.0.0.1 + DNS:localhost, so that etcd's
 * client-certificate SAN check (pkg/transport/listener_tls.go checkCertSAN) passes on loopback.
 *
 * Keys are EC P-256 (fast to make). Certificates are signed with `openssl ca`, whose database
 * gives back-dated validity (`-startdate/-enddate`) and revocation (`-revoke`, `-gencrl`).
 * Layout follows etcd's own test fixtures (etcd/integration/fixtures: ca.crt, server.crt, ...).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A certificate and its private key, as PEM file paths. */
export interface CertPair {
  cert: string;
  key: string;
}

/** Everything {@link makeTestPki} wrote. */
export interface TestPki {
  /** Folder holding every file. */
  dir: string;
  /** The trusted CA's certificate (PEM path): give it to `--trusted-ca-file` and clients' `--cacert`. */
  ca: string;
  /** Another CA's certificate; nothing signed by it is trusted by a server using `ca`. */
  otherCa: string;
  /** Server certificate (CN `server`), SAN IP:127.0.0.1 and DNS:localhost, signed by `ca`. */
  server: CertPair;
  /** Client certificate with CN `clientCn` (default `root`), signed by `ca`. */
  client: CertPair;
  /** Client certificate (CN `expired`) signed by `ca` whose validity ended yesterday. */
  expiredClient: CertPair;
  /** Client certificate (CN `revoked`) signed by `ca` and listed in `crl`. */
  revokedClient: CertPair;
  /** Client certificate (CN `root`) signed by `otherCa`. */
  untrustedClient: CertPair;
  /** PEM CRL of `ca` revoking `revokedClient`. */
  crl: string;
  /** PEM CRL of `ca` made before the revocation (revokes nothing). */
  emptyCrl: string;
  /** Peer certificates signed by `ca`, by common name (from `peerCns`). */
  peers: Record<string, CertPair>;
  /** Peer certificate (CN `intruder`) signed by `otherCa`. */
  untrustedPeer: CertPair;
  /** Peer certificate with CN `revokedPeerCn` (default `revoked-peer`) signed by `ca` and listed in `crl`. */
  revokedPeer: CertPair;
  /**
   * Peer certificate with CN `revokedPeerCn` signed by `ca` whose only SAN is IP:10.0.0.1: from
   * 127.0.0.1 it fails etcd's client-certificate SAN check on peer ports.
   */
  farPeer: CertPair;
}

/** Options of {@link makeTestPki}. */
export interface PkiOptions {
  /** CN of `client` (default `root`): the user name etcd takes from a client certificate. */
  clientCn?: string;
  /** Common names of the peer certificates to make (default none). */
  peerCns?: string[];
  /** CN of `revokedPeer` (default `revoked-peer`), e.g. the CN `--peer-cert-allowed-cn` requires. */
  revokedPeerCn?: string;
}

/** Runs openssl; throws with its stderr when it fails. */
function openssl(args: string[], cwd: string): void {
  const r = spawnSync("openssl", args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${r.stderr}`);
}

/** `openssl ca` time format, UTC: YYYYMMDDHHMMSSZ. */
function caTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/[-:T]/g, "").replace(/\.\d+Z$/, "Z");
}

const DAY_MS = 86_400_000;
/** `openssl ca -extensions` sections: `leaf` for loopback, `far` naming only 10.0.0.1. */
const LEAF_EXTENSIONS = [
  "[leaf]",
  "basicConstraints = CA:FALSE",
  "keyUsage = digitalSignature, keyEncipherment",
  "extendedKeyUsage = serverAuth, clientAuth",
  "subjectAltName = IP:127.0.0.1, DNS:localhost",
  "[far]",
  "basicConstraints = CA:FALSE",
  "keyUsage = digitalSignature, keyEncipherment",
  "extendedKeyUsage = serverAuth, clientAuth",
  "subjectAltName = IP:10.0.0.1",
  "",
].join("\n");

/** A CA with its own `openssl ca` database in `dir/<name>/`. */
class TestCa {
  readonly cert: string;
  readonly key: string;
  private readonly home: string;
  private readonly config: string;

  constructor(
    private readonly dir: string,
    name: string,
  ) {
    this.home = join(dir, name);
    mkdirSync(join(this.home, "newcerts"), { recursive: true });
    writeFileSync(join(this.home, "index.txt"), "");
    writeFileSync(join(this.home, "serial"), `${(0x1000 + Math.floor(Math.random() * 0xe000)).toString(16)}\n`);
    writeFileSync(join(this.home, "crlnumber"), "01\n");
    this.config = join(this.home, "openssl.cnf");
    writeFileSync(
      this.config,
      [
        "[ca]",
        "default_ca = ca_default",
        "[ca_default]",
        `dir = ${this.home}`,
        "database = $dir/index.txt",
        "new_certs_dir = $dir/newcerts",
        "serial = $dir/serial",
        "crlnumber = $dir/crlnumber",
        "default_md = sha256",
        "default_crl_days = 30",
        "policy = policy_any",
        "unique_subject = no",
        "copy_extensions = none",
        "[policy_any]",
        "commonName = supplied",
        LEAF_EXTENSIONS,
      ].join("\n"),
    );
    this.cert = join(dir, `${name}.crt`);
    this.key = join(dir, `${name}.key`);
    openssl(
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", this.key, "-out", this.cert, "-days", "30", "-subj", `/CN=${name}`],
      dir,
    );
  }

  /**
   * Makes `<file>.crt`/`<file>.key` with CN `cn`, valid from `notBeforeMs` to `notAfterMs` (epoch
   * ms), with the extensions of section `extensions` (see LEAF_EXTENSIONS).
   */
  issue(file: string, cn: string, notBeforeMs = Date.now() - DAY_MS, notAfterMs = Date.now() + 30 * DAY_MS, extensions = "leaf"): CertPair {
    const key = join(this.dir, `${file}.key`);
    const csr = join(this.dir, `${file}.csr`);
    const cert = join(this.dir, `${file}.crt`);
    openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", csr, "-subj", `/CN=${cn}`], this.dir);
    openssl(
      ["ca", "-batch", "-notext", "-config", this.config, "-cert", this.cert, "-keyfile", this.key, "-extensions", extensions,
        "-startdate", caTime(notBeforeMs), "-enddate", caTime(notAfterMs), "-in", csr, "-out", cert],
      this.dir,
    );
    return { cert, key };
  }

  /** Writes the CA's current CRL to `<file>` (PEM). */
  writeCrl(file: string): string {
    const crl = join(this.dir, file);
    openssl(["ca", "-batch", "-config", this.config, "-cert", this.cert, "-keyfile", this.key, "-gencrl", "-out", crl], this.dir);
    return crl;
  }

  /** Marks `cert` revoked in the CA's database (in CRLs written afterwards). */
  revoke(cert: string): void {
    openssl(["ca", "-batch", "-config", this.config, "-cert", this.cert, "-keyfile", this.key, "-revoke", cert], this.dir);
  }
}

/**
 * Writes a complete test PKI into `dir` (created if missing) and returns the file paths.
 * Takes about 0.2 s per certificate. Throws when openssl fails (message includes its stderr).
 */
export function makeTestPki(dir: string, opts: PkiOptions = {}): TestPki {
  mkdirSync(dir, { recursive: true });
  const ca = new TestCa(dir, "ca");
  const other = new TestCa(dir, "other-ca");
  const revokedClient = ca.issue("client-revoked", "revoked");
  const revokedPeer = ca.issue("peer-revoked", opts.revokedPeerCn ?? "revoked-peer");
  const emptyCrl = ca.writeCrl("ca-empty.crl");
  ca.revoke(revokedClient.cert);
  ca.revoke(revokedPeer.cert);
  const peers: Record<string, CertPair> = {};
  for (const cn of opts.peerCns ?? []) peers[cn] = ca.issue(`peer-${cn}`, cn);
  return {
    dir,
    ca: ca.cert,
    otherCa: other.cert,
    server: ca.issue("server", "server"),
    client: ca.issue("client", opts.clientCn ?? "root"),
    expiredClient: ca.issue("client-expired", "expired", Date.now() - 10 * DAY_MS, Date.now() - DAY_MS),
    revokedClient,
    untrustedClient: other.issue("client-untrusted", opts.clientCn ?? "root"),
    crl: ca.writeCrl("ca.crl"),
    emptyCrl,
    peers,
    untrustedPeer: other.issue("peer-intruder", "intruder"),
    revokedPeer,
    farPeer: ca.issue("peer-far", opts.revokedPeerCn ?? "far-peer", undefined, undefined, "far"),
  };
}
