import { SaxesParser } from 'saxes';

/** One element of a parsed document: attributes by qualified name, children in order. */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: (XmlElement | string)[];
}

export interface XmlDocument {
  root: XmlElement;
  doctype?: string;
  instructions: { target: string; body: string }[];
}

/**
 * Parses with saxes, a strict XML 1.0 + namespaces parser: any well-formedness
 * error (a forbidden character, a bad name, an undeclared prefix, a stray `]]>`)
 * throws with its position.
 */
export function parseXml(text: string): XmlDocument {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let doctype: string | undefined;
  const instructions: { target: string; body: string }[] = [];
  parser.on('error', (error) => {
    throw error;
  });
  parser.on('doctype', (value) => {
    doctype = value;
  });
  parser.on('processinginstruction', (pi) => instructions.push(pi));
  parser.on('opentag', (tag) => {
    const attributes: Record<string, string> = {};
    for (const [name, attribute] of Object.entries(tag.attributes)) attributes[name] = attribute.value;
    const element: XmlElement = { name: tag.name, attributes, children: [] };
    const parent = stack.at(-1);
    if (parent) parent.children.push(element);
    else root = element;
    stack.push(element);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  const addText = (value: string): void => {
    const parent = stack.at(-1);
    if (!parent) return;
    const last = parent.children.at(-1);
    if (typeof last === 'string') parent.children[parent.children.length - 1] = last + value;
    else parent.children.push(value);
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.write(text).close();
  if (!root) throw new Error('no root element');
  return { root, doctype, instructions };
}

export function childElements(element: XmlElement, name?: string): XmlElement[] {
  return element.children.filter((c): c is XmlElement => typeof c !== 'string' && (name === undefined || c.name === name));
}

/** The only child named `name`; throws when there is none or several. */
export function child(element: XmlElement, name: string): XmlElement {
  const found = childElements(element, name);
  if (found.length !== 1) throw new Error(`<${element.name}> has ${found.length} <${name}> children`);
  return found[0] as XmlElement;
}

/** All text inside the element, markup removed (what an XPath string() gives). */
export function textOf(element: XmlElement): string {
  return element.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
}

/** Every element named `name` in the subtree, in document order. */
export function descendants(element: XmlElement, name: string): XmlElement[] {
  return childElements(element).flatMap((c) => [...(c.name === name ? [c] : []), ...descendants(c, name)]);
}
