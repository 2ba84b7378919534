/**
 * A "billion laughs" alias bomb as an `envs:` section: `levels` anchors, each a list of nine
 * aliases of the one before, so a few hundred bytes expand to 9^levels strings.
 */
export function aliasBomb(levels: number): string {
  const lines = ["envs:", `  L0: &l0 [${Array(9).fill('"lol"').join(",")}]`];
  for (let i = 1; i < levels; i++)
    lines.push(
      `  L${i}: &l${i} [${Array(9)
        .fill(`*l${i - 1}`)
        .join(",")}]`,
    );
  return `${lines.join("\n")}\n`;
}
