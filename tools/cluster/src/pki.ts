import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import type { StateLayout } from "./layout.js";
import { CERTS, extensions, subject } from "./pki-plan.js";

const P256 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
const DAYS = "365";

function openssl(args: string[]): void {
  try {
    execFileSync("openssl", args, { stdio: "pipe" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      throw new Error("the local cluster needs the openssl CLI (apt-get install openssl)");
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`openssl ${args[0]} failed: ${stderr || String(err)}`);
  }
}

/**
 * A fresh CA and every certificate of CERTS signed by it, plus the service-account signing key,
 * in the state's pki dir (keys 0600). Made on each `up`: a cluster lives until `down`.
 */
export function makePki(s: StateLayout): void {
  mkdirSync(s.pki, { recursive: true, mode: 0o700 });
  openssl([
    "req",
    "-x509",
    ...P256,
    "-nodes",
    "-keyout",
    s.caKey,
    "-out",
    s.ca,
    "-days",
    DAYS,
    "-subj",
    "/CN=switchyard-local-cluster-ca",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
  ]);
  for (const spec of CERTS) {
    const csr = `${s.pki}/${spec.name}.csr`;
    const ext = `${s.pki}/${spec.name}.ext`;
    writeFileSync(ext, extensions(spec));
    openssl([
      "req",
      "-new",
      ...P256,
      "-nodes",
      "-keyout",
      s.key(spec.name),
      "-out",
      csr,
      "-subj",
      subject(spec),
    ]);
    openssl([
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      s.ca,
      "-CAkey",
      s.caKey,
      "-CAcreateserial",
      "-days",
      DAYS,
      "-out",
      s.cert(spec.name),
      "-extfile",
      ext,
    ]);
    rmSync(csr);
    rmSync(ext);
  }
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", s.saKey]);
  openssl(["pkey", "-in", s.saKey, "-pubout", "-out", s.saPub]);
  for (const f of [s.caKey, s.saKey, ...CERTS.map((c) => s.key(c.name))])
    if (existsSync(f)) chmodSync(f, 0o600);
}
