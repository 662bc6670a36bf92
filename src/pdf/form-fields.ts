import { PdfError } from './errors.js';
import { isName, type PdfDict, PdfRef, PdfString, type PdfValue } from './objects.js';
import type { ObjectResolver } from './page-tree.js';

export interface FieldInfo {
  /** The field's reference, when it is an indirect object. */
  ref: PdfRef | undefined;
  num: number | undefined;
  name: string;
  /** The field type, inherited from parents (`Sig`, `Tx`, `Btn`, `Ch`), if any. */
  type: string | undefined;
  dict: PdfDict;
  /** Widget annotation object numbers (the field itself when it is merged with its widget). */
  widgets: number[];
}

const MAX_DEPTH = 32;
const MAX_FIELDS = 10_000;

/** Every terminal form field (of any revision), by walking `/AcroForm /Fields` (bounded, cycle-safe). */
export function terminalFields(view: ObjectResolver): FieldInfo[] {
  const acroForm = view.resolveDict(view.catalog().get('AcroForm'));
  const roots = view.resolve(acroForm?.get('Fields'));
  const found: FieldInfo[] = [];
  if (!Array.isArray(roots)) return found;
  const seen = new Set<number>();
  let visited = 0;
  const walk = (item: PdfValue, parentName: string, inheritedType: string | undefined, depth: number): void => {
    if (depth > MAX_DEPTH) throw new PdfError('LIMIT_EXCEEDED', 'form fields nested too deeply');
    if (++visited > MAX_FIELDS) throw new PdfError('LIMIT_EXCEEDED', 'too many form fields');
    const ref = item instanceof PdfRef ? item : undefined;
    const num = ref?.num;
    if (num !== undefined) {
      if (seen.has(num)) return;
      seen.add(num);
    }
    const dict = view.resolveDict(item);
    if (!dict) return;
    const t = dict.get('T');
    const partial = t instanceof PdfString ? t.toText() : undefined;
    const name = partial === undefined ? parentName : parentName ? `${parentName}.${partial}` : partial;
    const ft = dict.get('FT');
    const type = isName(ft) ? ft.value : inheritedType;
    const kids = view.resolve(dict.get('Kids'));
    const kidList = Array.isArray(kids) ? kids : [];
    const fieldKids = kidList.filter((k) => view.resolveDict(k)?.has('T'));
    if (fieldKids.length > 0) {
      for (const kid of fieldKids) walk(kid, name, type, depth + 1);
      return;
    }
    const widgets = kidList.filter((k): k is PdfRef => k instanceof PdfRef).map((k) => k.num);
    if (widgets.length === 0 && num !== undefined) widgets.push(num);
    found.push({ ref, num, name, type, dict, widgets });
  };
  for (const root of roots) walk(root, '', undefined, 0);
  return found;
}
