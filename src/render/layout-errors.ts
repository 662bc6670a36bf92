/** Content that cannot be laid out within the type's limits; `field` names the request field (`fields.x`, `holder.name`). */
export class LayoutOverflowError extends Error {
  override name = 'LayoutOverflowError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Text with a character no embedded font can draw (it would print as an empty box). */
export class UnprintableTextError extends Error {
  override name = 'UnprintableTextError';
  constructor(
    readonly field: string,
    readonly codePoint: number,
  ) {
    super(`contains U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}, which no embedded font can print`);
  }
}
