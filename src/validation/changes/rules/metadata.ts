import { isName, PdfRef, PdfStream } from '../../../pdf/objects.js';
import type { StepContext } from '../step.js';

/** XMP metadata (the catalog's /Metadata stream) and the trailer's /Info: not displayed, reported. */
export function metadataRule(ctx: StepContext): void {
  let metadata;
  try {
    metadata = ctx.cur.catalog().get('Metadata');
  } catch {
    return;
  }
  if (metadata instanceof PdfRef) {
    const value = ctx.cur.getObject(metadata.num);
    if (value instanceof PdfStream && isName(value.dict.get('Subtype'), 'XML')) {
      ctx.explain(metadata.num, { rule: 'metadata', category: 'metadata', need: 'not-p1', description: `XMP metadata ${ctx.change(metadata.num)?.kind === 'added' ? 'added' : 'updated'}` });
    }
  }
  const info = ctx.cur.trailer.get('Info');
  if (info instanceof PdfRef) {
    ctx.explain(info.num, { rule: 'metadata', category: 'metadata', need: 'not-p1', description: 'document information dictionary (/Info) updated' });
    ctx.explainNewFrom(ctx.cur.getObject(info.num) ?? undefined, { rule: 'metadata', category: 'metadata', need: 'not-p1', description: 'document information' });
  }
}
