// @pure: a temporary deb-src entry made from the machine's own Debian apt source

export interface AptSource {
  uris: string[];
  suites: string[];
  components: string[];
  signedBy?: string;
}

/** The `deb` stanzas of deb822 `.sources` text (Types, URIs, Suites, Components, Signed-By). */
export function parseDeb822(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const f: Record<string, string> = {};
    let last = "";
    for (const line of stanza.split("\n")) {
      if (line.startsWith("#")) continue;
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m) {
        last = m[1].toLowerCase();
        f[last] = m[2].trim();
      } else if (/^\s/.test(line) && last) f[last] += ` ${line.trim()}`;
    }
    if (f.enabled?.toLowerCase() === "no") continue;
    if (!(f.types ?? "").split(/\s+/).includes("deb")) continue;
    out.push({
      uris: (f.uris ?? "").split(/\s+/).filter(Boolean),
      suites: (f.suites ?? "").split(/\s+/).filter(Boolean),
      components: (f.components ?? "").split(/\s+/).filter(Boolean),
      signedBy: f["signed-by"] || undefined,
    });
  }
  return out;
}

/** The `deb` lines of a one-line-style sources.list. */
export function parseOneLine(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    const m = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s+(.+)$/.exec(line);
    if (!m) continue;
    const signedBy = /signed-by=(\S+)/.exec(m[1] ?? "")?.[1];
    out.push({ uris: [m[2]], suites: [m[3]], components: m[4].split(/\s+/), signedBy });
  }
  return out;
}

/**
 * A deb822 deb-src stanza for `codename`'s main component, from the first source that serves it,
 * or null when none does. Only http(s) mirrors are used.
 */
export function debSrcStanza(sources: AptSource[], codename: string): string | null {
  if (!/^[a-z0-9-]+$/.test(codename)) return null;
  const s = sources.find(
    (x) =>
      x.suites.includes(codename) &&
      x.components.includes("main") &&
      x.uris.some((u) => /^https?:\/\//.test(u)),
  );
  if (!s) return null;
  const uri = s.uris.find((u) => /^https?:\/\/[^\s]+$/.test(u))!;
  const lines = ["Types: deb-src", `URIs: ${uri}`, `Suites: ${codename}`, "Components: main"];
  if (s.signedBy && /^\/[^\s]+$/.test(s.signedBy)) lines.push(`Signed-By: ${s.signedBy}`);
  return `${lines.join("\n")}\n`;
}
