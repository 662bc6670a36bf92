import { isName, PdfRef, PdfStream } from '../../../pdf/objects.js';
import type { StepContext } from '../step.js';

/**
 * XMP metadata (the catalog's /Metadata stream) and the trailer's /Info: not displayed, so
 * allowed at every DocMDP level (readers and archiving tools update them when they add
 * validation data), and reported.
 */
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
      ctx.explain(metadata.num, { rule: 'metadata', category: 'metadata', need: 'always', description: `XMP metadata ${ctx.change(metadata.num)?.kind === 'added' ? 'added' : 'updated'}` });
    }
  }
  const info = ctx.cur.trailer.get('Info');
  if (info instanceof PdfRef) {
    ctx.explain(info.num, { rule: 'metadata', category: 'metadata', need: 'always', description: 'document information dictionary (/Info) updated' });
    ctx.explainNewFrom(ctx.cur.getObject(info.num) ?? undefined, { rule: 'metadata', category: 'metadata', need: 'always', description: 'document information' });
  }
}
