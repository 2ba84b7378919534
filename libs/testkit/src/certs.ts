import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A PEM certificate and its key, as files and as text. */
export interface TestCert {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

/**
 * A throwaway certificate authority for TLS suites, made with the `openssl` CLI (P-256 keys,
 * valid two days): `issue(name, dnsNames)` signs a leaf whose subject CN is `name` and whose
 * subjectAltName lists `dnsNames`. Clients trust `ca.cert` alone.
 */
export class TestCa {
  readonly dir: string;
  readonly ca: TestCert;

  constructor(dir = mkdtempSync(join(tmpdir(), "yard-certs-"))) {
    this.dir = dir;
    const certFile = join(dir, "ca.crt");
    const keyFile = join(dir, "ca.key");
    openssl(["req", "-x509", ...P256, "-nodes", "-keyout", keyFile, "-out", certFile], "/CN=yard-test-ca");
    this.ca = read(certFile, keyFile);
  }

  /** A leaf certificate signed by this CA, written as `<file>.crt` / `<file>.key` in `dir`. */
  issue(name: string, dnsNames: string[], file = name): TestCert {
    const base = join(this.dir, file);
    const ext = `${base}.ext`;
    writeFileSync(ext, `subjectAltName=${dnsNames.map((d) => `DNS:${d}`).join(",")}\n`);
    openssl(["req", ...P256, "-nodes", "-keyout", `${base}.key`, "-out", `${base}.csr`], `/CN=${name}`);
    execFileSync(
      "openssl",
      // biome-ignore format: flags and their values in pairs
      ["x509", "-req", "-in", `${base}.csr`, "-CA", this.ca.certFile, "-CAkey", this.ca.keyFile,
        "-CAcreateserial", "-days", "2", "-out", `${base}.crt`, "-extfile", ext],
      { stdio: "pipe" },
    );
    return read(`${base}.crt`, `${base}.key`);
  }
}

const P256 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];

function openssl(args: string[], subject: string): void {
  try {
    execFileSync("openssl", [...args, "-subj", subject, "-days", "2"], { stdio: "pipe" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      throw new Error("TLS suites need the openssl CLI (apt-get install openssl)");
    throw err;
  }
}

function read(certFile: string, keyFile: string): TestCert {
  return { certFile, keyFile, cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") };
}
