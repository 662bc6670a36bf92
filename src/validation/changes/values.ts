import { isName, PdfDict, PdfName, PdfRef, PdfStream, PdfString, type PdfValue } from '../../pdf/objects.js';

export function typeName(value: PdfValue | undefined): string | undefined {
  const dict = value instanceof PdfStream ? value.dict : value instanceof PdfDict ? value : undefined;
  const type = dict?.get('Type');
  return isName(type) ? type.value : undefined;
}

export function dictOf(value: PdfValue | undefined): PdfDict | undefined {
  return value instanceof PdfStream ? value.dict : value instanceof PdfDict ? value : undefined;
}

/** Structural equality of two parsed values; streams compare their stored bytes. */
export function sameValue(a: PdfValue | undefined, b: PdfValue | undefined): boolean {
  if (a === b) return true;
  if (a instanceof PdfRef && b instanceof PdfRef) return a.num === b.num && a.gen === b.gen;
  if (a instanceof PdfName && b instanceof PdfName) return a.value === b.value;
  if (a instanceof PdfString && b instanceof PdfString) return a.bytes.equals(b.bytes);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (a instanceof PdfDict && b instanceof PdfDict) {
    if (a.entries.size !== b.entries.size) return false;
    for (const [k, v] of a.entries) if (!sameValue(v, b.get(k))) return false;
    return true;
  }
  if (a instanceof PdfStream && b instanceof PdfStream) return a.raw.equals(b.raw) && sameValue(a.dict, b.dict);
  return false;
}

/** The keys whose values differ between two dictionaries. */
export function changedKeys(before: PdfDict | undefined, after: PdfDict | undefined): string[] {
  const keys = new Set([...(before?.entries.keys() ?? []), ...(after?.entries.keys() ?? [])]);
  return [...keys].filter((k) => !sameValue(before?.get(k), after?.get(k)));
}

/** Every reference written inside a value (not followed), bounded by `limit`. */
export function refsWithin(value: PdfValue | undefined, out: number[] = [], limit = 100_000): number[] {
  const stack: Array<PdfValue | undefined> = [value];
  while (stack.length > 0 && out.length < limit) {
    const v = stack.pop();
    if (v instanceof PdfRef) out.push(v.num);
    else if (Array.isArray(v)) stack.push(...v);
    else if (v instanceof PdfDict) stack.push(...v.entries.values());
    else if (v instanceof PdfStream) stack.push(...v.dict.entries.values());
  }
  return out;
}

/** The references listed in an array value. */
export function refList(value: PdfValue | undefined): number[] {
  return Array.isArray(value) ? value.filter((v): v is PdfRef => v instanceof PdfRef).map((r) => r.num) : [];
}
