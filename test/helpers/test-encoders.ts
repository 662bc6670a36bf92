/**
 * Encoders the decoders under test are checked against. Nothing installed here writes LZW or
 * RunLength, so these are written for the tests and are themselves checked against pdf-lib's
 * decoders (an independent implementation) in test/pdf/filters.test.ts.
 */

/** LZW as in ISO 32000-1 7.4.4: clear code first, a clear whenever the table nears 4096 entries, EOD last. */
export function lzwEncode(data: Buffer, earlyChange: 0 | 1 = 1, clearAt = 4000): Buffer {
  const out: number[] = [];
  let bits = 0;
  let bitCount = 0;
  let width = 9;
  let next = 258;
  // key: code of the current string * 256 + the next byte
  let table = new Map<number, number>();
  const emit = (code: number): void => {
    // the decoder adds its entries one code behind the encoder, hence next - 1
    while (width < 12 && next - 1 + earlyChange >= 1 << width) width++;
    bits = (bits << width) | code;
    bitCount += width;
    while (bitCount >= 8) {
      bitCount -= 8;
      out.push((bits >>> bitCount) & 0xff);
    }
    bits &= (1 << bitCount) - 1;
  };
  emit(256);
  let current = -1;
  for (const byte of data) {
    if (current < 0) {
      current = byte;
      continue;
    }
    const known = table.get(current * 256 + byte);
    if (known !== undefined) {
      current = known;
      continue;
    }
    emit(current);
    if (next < 4096) table.set(current * 256 + byte, next++); // a full table stays as it is
    if (next >= clearAt) {
      emit(256);
      table = new Map();
      next = 258;
      width = 9;
    }
    current = byte;
  }
  if (current >= 0) {
    emit(current);
    if (next < 4096) next++; // the decoder adds an entry for this code too, which decides the width of EOD
  }
  emit(257);
  if (bitCount > 0) out.push((bits << (8 - bitCount)) & 0xff);
  return Buffer.from(out);
}

/** RunLength as in ISO 32000-1 7.4.5: repeats of 2..128 bytes, literals of up to 128, EOD 128. */
export function runLengthEncode(data: Buffer): Buffer {
  const out: number[] = [];
  let i = 0;
  while (i < data.length) {
    let run = 1;
    while (i + run < data.length && run < 128 && data[i + run] === data[i]) run++;
    if (run >= 2) {
      out.push(257 - run, data[i]!);
      i += run;
      continue;
    }
    const start = i;
    while (i < data.length && i - start < 128 && !(i + 1 < data.length && data[i + 1] === data[i])) i++;
    out.push(i - start - 1, ...data.subarray(start, i));
  }
  out.push(128);
  return Buffer.from(out);
}
