// @pure: no I/O
/** An RGB colour. */
export type Rgb = readonly [number, number, number];

/**
 * 5×7 glyphs, one 35-bit number each (row-major from the top left, 1 = ink): enough for a
 * chart's labels without a font file. Lower case is drawn as upper case.
 */
const GLYPHS: Record<string, number> = {
  "0": 0x3a33ae62e,
  "1": 0x11842108e,
  "2": 0x3a211111f,
  "3": 0x7c441062e,
  "4": 0x8ca97c42,
  "5": 0x7e1e0862e,
  "6": 0x1910f462e,
  "7": 0x7c2222108,
  "8": 0x3a317462e,
  "9": 0x3a317844c,
  A: 0x3a31fc631,
  B: 0x7a31f463e,
  C: 0x3a308422e,
  D: 0x7a318c63e,
  E: 0x7e10f421f,
  F: 0x7e10f4210,
  G: 0x3a30bc62f,
  H: 0x4631fc631,
  I: 0x38842108e,
  J: 0x1c4210a4c,
  K: 0x4654c5251,
  L: 0x42108421f,
  M: 0x4775ac631,
  N: 0x4639ace31,
  O: 0x3a318c62e,
  P: 0x7a31f4210,
  Q: 0x3a318d64d,
  R: 0x7a31f5251,
  S: 0x3e107043e,
  T: 0x7c8421084,
  U: 0x46318c62e,
  V: 0x46318c544,
  W: 0x4631ad6aa,
  X: 0x462a22a31,
  Y: 0x462a21084,
  Z: 0x7c222221f,
  "(": 0x88842082,
  ")": 0x208210888,
  ".": 0x18c,
  ",": 0x3088,
  "-": 0xf8000,
  "/": 0x2222200,
  ":": 0x18c03180,
  "=": 0x1f07c00,
  "+": 0x84f9080,
  "%": 0x632222263,
  _: 0x1f,
};

/** A glyph cell is 6 pixels wide (5 + a space) and 7 high, times the scale. */
export const textWidth = (s: string, scale = 1) => s.length * 6 * scale;

/** An RGB image in memory with the few drawing operations a line chart needs. */
export class Raster {
  readonly pixels: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = [255, 255, 255],
  ) {
    this.pixels = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) this.pixels.set(background, i * 3);
  }

  set(x: number, y: number, c: Rgb): void {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    this.pixels.set(c, (yi * this.width + xi) * 3);
  }

  get(x: number, y: number): Rgb {
    const i = (y * this.width + x) * 3;
    return [this.pixels[i], this.pixels[i + 1], this.pixels[i + 2]];
  }

  fillRect(x: number, y: number, w: number, h: number, c: Rgb): void {
    for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) this.set(x + i, y + j, c);
  }

  /** A straight line `width` pixels thick; `dash` [on, off] in pixels along the line. */
  line(x0: number, y0: number, x1: number, y1: number, c: Rgb, width = 1, dash?: [number, number]): void {
    const len = Math.hypot(x1 - x0, y1 - y0);
    const steps = Math.max(1, Math.ceil(len));
    const half = (width - 1) / 2;
    for (let s = 0; s <= steps; s++) {
      if (dash && s % (dash[0] + dash[1]) >= dash[0]) continue;
      const x = x0 + ((x1 - x0) * s) / steps;
      const y = y0 + ((y1 - y0) * s) / steps;
      for (let dy = -half; dy <= half; dy++)
        for (let dx = -half; dx <= half; dx++) this.set(x + dx, y + dy, c);
    }
  }

  /** Text with its top left at (x, y); characters without a glyph are left blank. */
  text(x: number, y: number, s: string, c: Rgb, scale = 1): void {
    [...s.toUpperCase()].forEach((ch, k) => {
      const g = GLYPHS[ch];
      if (g === undefined) return;
      for (let row = 0; row < 7; row++)
        for (let col = 0; col < 5; col++)
          if (Math.floor(g / 2 ** (34 - (row * 5 + col))) % 2 === 1)
            this.fillRect(x + (k * 6 + col) * scale, y + row * scale, scale, scale, c);
    });
  }
}
