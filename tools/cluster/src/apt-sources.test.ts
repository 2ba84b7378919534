import { describe, expect, it } from "vitest";
import { debSrcStanza, parseDeb822, parseOneLine } from "./apt-sources.js";

const DEB822 = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

describe("a temporary deb-src entry from the machine's apt sources", () => {
  it("deb822: the mirror serving the release's main, with its key", () => {
    expect(debSrcStanza(parseDeb822(DEB822), "bookworm")).toBe(
      "Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
    );
  });

  it("one-line sources.list", () => {
    const list =
      "# comment\ndeb [arch=amd64 signed-by=/k.gpg] https://mirror.example/debian bookworm main contrib\n";
    expect(debSrcStanza(parseOneLine(list), "bookworm")).toBe(
      "Types: deb-src\nURIs: https://mirror.example/debian\nSuites: bookworm\nComponents: main\nSigned-By: /k.gpg\n",
    );
  });

  it("none for another release, a disabled stanza, a non-http mirror or a strange codename", () => {
    expect(debSrcStanza(parseDeb822(DEB822), "trixie")).toBeNull();
    expect(debSrcStanza(parseDeb822(`Enabled: no\n${DEB822.split("\n\n")[0]}`), "bookworm")).toBeNull();
    expect(debSrcStanza(parseOneLine("deb file:/srv/debian bookworm main"), "bookworm")).toBeNull();
    expect(debSrcStanza(parseDeb822(DEB822), "bookworm\nURIs: x")).toBeNull();
  });
});
