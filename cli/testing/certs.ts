/**
 * Test certificates made with the `openssl` command line: a CA, a server certificate for
 * loopback (SAN `IP:127.0.0.1`, `DNS:localhost`) and client certificates, all signed by the CA,
 * as PEM files in a temporary directory. EC P-256 keys (fast to make); valid for 2 days.
 *
 * Usable by any test that needs TLS or mTLS (etcd's `--cert-file --key-file --trusted-ca-file
 * --client-cert-auth`, etcdctl's `--cacert --cert --key`). Works with Go's crypto/tls (real etcd
 * and Go etcdctl) and with Node's tls in Bun and Deno.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A certificate and its private key, as PEM file paths. */
export interface CertPair {
  cert: string;
  key: string;
}

/** Everything {@link makeTestCerts} wrote. */
export interface TestCerts {
  /** The directory holding every file. */
  dir: string;
  /** The CA certificate (PEM): `--trusted-ca-file` for etcd, `--cacert` for etcdctl. */
  ca: string;
  /** The CA's key, for signing more certificates with {@link TestCerts.issue}. */
  caKey: string;
  /** Server certificate for `127.0.0.1` and `localhost` (serverAuth and clientAuth usages). */
  server: CertPair;
  /** Client certificate with common name `client`. */
  client: CertPair;
  /** A second, unrelated CA's certificate (verification against it must fail). */
  otherCa: string;
  /**
   * Issues one more certificate signed by the CA.
   * @param name file name stem, e.g. `root-client`
   * @param commonName subject CN (etcd takes it as the user name for CN-based auth)
   * @param sans subjectAltName entries, e.g. `["IP:127.0.0.1"]`; none by default
   */
  issue(name: string, commonName: string, sans?: string[]): CertPair;
  /** Removes the directory. */
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

const KEY_ARGS = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** A self-signed CA certificate `<name>.pem` with key `<name>-key.pem`. */
function makeCa(dir: string, name: string): void {
  openssl(
    [
      "req", "-x509", ...KEY_ARGS, "-keyout", `${name}-key.pem`, "-out", `${name}.pem`, "-days", "2",
      "-subj", `/CN=${name}`,
      "-addext", "basicConstraints=critical,CA:TRUE",
      "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
}

/**
 * Writes a CA, a server and a client certificate into a new temporary directory.
 * @throws Error when `openssl` fails (its stderr in the message)
 */
export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), "etcd-test-certs-"));
  makeCa(dir, "ca");
  makeCa(dir, "other-ca");
  let serial = 1;
  const issue = (name: string, commonName: string, sans: string[] = []): CertPair => {
    const ext = [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth,clientAuth",
      ...(sans.length > 0 ? [`subjectAltName=${sans.join(",")}`] : []),
    ];
    writeFileSync(join(dir, `${name}.ext`), ext.join("\n") + "\n");
    openssl(["req", ...KEY_ARGS, "-keyout", `${name}-key.pem`, "-out", `${name}.csr`, "-subj", `/CN=${commonName}`], dir);
    openssl(
      [
        "x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca-key.pem",
        "-set_serial", String(serial++), "-days", "2", "-extfile", `${name}.ext`, "-out", `${name}.pem`,
      ],
      dir,
    );
    return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) };
  };
  return {
    dir,
    ca: join(dir, "ca.pem"),
    caKey: join(dir, "ca-key.pem"),
    server: issue("server", "localhost", ["IP:127.0.0.1", "DNS:localhost"]),
    client: issue("client", "client"),
    otherCa: join(dir, "other-ca.pem"),
    issue,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
