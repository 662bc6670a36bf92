/**
 * A small non-validating XML reader for the parts of an OFD package. No XML library is
 * installed, and OFD needs little of XML: elements, attributes, text and CDATA, the five
 * predefined entities and character references. What makes XML readers dangerous is refused
 * outright: a document type declaration (`<!DOCTYPE`, and with it `<!ENTITY`: entity expansion,
 * external entities) is an error, not skipped. The work is linear in the input, and the tree is
 * bounded by a depth and an element count. Namespaces are not resolved: an element is known by
 * its local name (`ofd:PathObject` is `PathObject`), which is how OFD parts are read in practice.
 */
import { OfdError } from './ofd-error.js';

export interface XmlElement {
  /** The local name, without its prefix. */
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (CDATA included), its children's left out. */
  text: string;
}

export interface XmlLimits {
  maxDepth: number;
  maxElements: number;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeText(data: Buffer, file: string): string {
  let body = data;
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) body = body.subarray(3);
  const declared = /^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(body.subarray(0, 200).toString('latin1'))?.[1]?.toLowerCase();
  let encoding = 'utf-8';
  if (declared && ['gb2312', 'gbk', 'gb18030'].includes(declared)) encoding = 'gb18030';
  else if (declared && declared !== 'utf-8' && declared !== 'utf8') throw new OfdError(`${file} is encoded in ${declared}; UTF-8 and GB 18030 are supported`);
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(body);
  } catch {
    throw new OfdError(`${file} is not valid ${encoding === 'utf-8' ? 'UTF-8' : 'GB 18030'} text`);
  }
}

function unescape(raw: string, file: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;&\s]{1,10});/g, (whole, ref: string) => {
    if (ref[0] === '#') {
      const cp = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      if (!Number.isInteger(cp) || cp <= 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new OfdError(`${file} has an invalid character reference ${whole}`);
      return String.fromCodePoint(cp);
    }
    const known = ENTITIES[ref];
    if (known === undefined) throw new OfdError(`${file} uses the entity ${whole}; only the predefined XML entities are allowed`);
    return known;
  });
}

function localName(qualified: string): string {
  return qualified.slice(qualified.indexOf(':') + 1);
}

const SPACE = /\s/;

export function parseXml(data: Buffer, file: string, limits: XmlLimits): XmlElement {
  const xml = decodeText(data, file);
  const stack: Array<{ element: XmlElement; tag: string }> = [];
  let root: XmlElement | null = null;
  let count = 0;
  const damaged = (what: string): OfdError => new OfdError(`${file} is not well-formed XML: ${what}`);
  const until = (from: number, end: string, what: string): number => {
    const at = xml.indexOf(end, from);
    if (at < 0) throw damaged(`${what} is not closed`);
    return at;
  };

  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt < 0 ? xml.length : lt);
    if (stack.length) stack[stack.length - 1]!.element.text += unescape(text, file);
    else if (text.trim()) throw damaged('text outside the root element');
    if (lt < 0) break;

    if (xml.startsWith('<?', lt)) {
      i = until(lt + 2, '?>', 'a processing instruction') + 2;
    } else if (xml.startsWith('<!--', lt)) {
      i = until(lt + 4, '-->', 'a comment') + 3;
    } else if (xml.startsWith('<![CDATA[', lt)) {
      const end = until(lt + 9, ']]>', 'a CDATA section');
      if (!stack.length) throw damaged('CDATA outside the root element');
      stack[stack.length - 1]!.element.text += xml.slice(lt + 9, end);
      i = end + 3;
    } else if (xml.startsWith('<!', lt)) {
      throw new OfdError(`${file} has a document type or entity declaration (<!DOCTYPE, <!ENTITY), which is refused`);
    } else if (xml.startsWith('</', lt)) {
      const end = until(lt + 2, '>', 'an end tag');
      const tag = xml.slice(lt + 2, end).trim();
      const open = stack.pop();
      if (!open || open.tag !== tag) throw damaged(`</${tag}> does not close ${open ? `<${open.tag}>` : 'any element'}`);
      i = end + 1;
    } else {
      let at = lt + 1;
      while (at < xml.length && !SPACE.test(xml[at]!) && xml[at] !== '>' && xml[at] !== '/') at++;
      const tag = xml.slice(lt + 1, at);
      if (!tag) throw damaged('an element without a name');
      if (root && !stack.length) throw damaged('a second root element');
      if (++count > limits.maxElements) throw new OfdError(`${file} has more than ${limits.maxElements} elements`);
      if (stack.length >= limits.maxDepth) throw new OfdError(`${file} nests elements more than ${limits.maxDepth} deep`);
      const element: XmlElement = { name: localName(tag), attributes: Object.create(null) as Record<string, string>, children: [], text: '' };
      for (;;) {
        while (at < xml.length && SPACE.test(xml[at]!)) at++;
        if (at >= xml.length) throw damaged(`<${tag}> is not closed`);
        if (xml[at] === '>' || xml.startsWith('/>', at)) break;
        const eq = until(at, '=', `an attribute of <${tag}>`);
        const attribute = xml.slice(at, eq).trim();
        let q = eq + 1;
        while (q < xml.length && SPACE.test(xml[q]!)) q++;
        const quote = xml[q];
        if (!attribute || /[\s<>/"']/.test(attribute) || (quote !== '"' && quote !== "'")) throw damaged(`a malformed attribute in <${tag}>`);
        const close = until(q + 1, quote, `an attribute value in <${tag}>`);
        if (attribute in element.attributes) throw damaged(`<${tag}> has the attribute ${attribute} twice`);
        element.attributes[attribute] = unescape(xml.slice(q + 1, close), file);
        at = close + 1;
      }
      if (stack.length) stack[stack.length - 1]!.element.children.push(element);
      else root = element;
      if (xml[at] === '>') {
        stack.push({ element, tag });
        i = at + 1;
      } else {
        i = at + 2;
      }
    }
  }
  if (stack.length) throw damaged(`<${stack[stack.length - 1]!.tag}> is not closed (the file may be truncated)`);
  if (!root) throw damaged('there is no root element');
  return root;
}

/** The first child element with this local name. */
export function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((c) => c.name === name);
}

export function childrenNamed(element: XmlElement | undefined, name: string): XmlElement[] {
  return element ? element.children.filter((c) => c.name === name) : [];
}
