// @pure: the mount points under a directory, deepest first (the order to unmount them)

export function mountsUnder(mountinfo: string, dir: string): string[] {
  const root = dir.replace(/\/+$/, "");
  const out: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const f = line.split(" ");
    if (f.length < 5) continue;
    // Field 5 is the mount point, with spaces and such escaped as octal (\040).
    const mp = f[4].replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
    if (mp === root || mp.startsWith(`${root}/`)) out.push(mp);
  }
  return [...new Set(out)].sort((a, b) => b.length - a.length);
}
