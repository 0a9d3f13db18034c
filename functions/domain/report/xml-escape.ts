/**
 * Text that any XML 1.0 parser accepts, whatever a step wrote into its logs.
 *
 * XML 1.0 allows only #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
 * [#x10000-#x10FFFF], and not even as character references. Everything else
 * (NUL, backspace, ESC, other C0 controls, lone surrogates, U+FFFE, U+FFFF)
 * becomes U+FFFD, the replacement character, so a reader still sees that
 * something was there. Markup characters are escaped rather than wrapped in
 * CDATA, so `]]>` needs no special case.
 */

export const REPLACEMENT_CHARACTER = '\uFFFD';

// With the `u` flag a lone surrogate is one code point outside every allowed range.
const ILLEGAL = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const TEXT_SPECIAL = /[&<>\r]/g;
const ATTRIBUTE_SPECIAL = /[&<>"'\t\n\r]/g;

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // Parsers turn a literal CR into LF, and tabs and newlines in attributes into
  // spaces; character references keep them as they were.
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

const entity = (char: string): string => ENTITIES[char] ?? char;

/** The string with every character XML 1.0 forbids replaced by U+FFFD. */
export function xmlSafe(value: string): string {
  return value.replace(ILLEGAL, REPLACEMENT_CHARACTER);
}

/** Character data for element content. */
export function xmlText(value: string): string {
  return xmlSafe(value).replace(TEXT_SPECIAL, entity);
}

/** A value for a double-quoted attribute. */
export function xmlAttribute(value: string): string {
  return xmlSafe(value).replace(ATTRIBUTE_SPECIAL, entity);
}

// ASCII subset of an XML NCName: no colon (no namespace prefix to declare) and
// no leading digit, dot or hyphen.
const ELEMENT_NAME = /^[A-Za-z_][A-Za-z0-9._-]*$/;

/** Whether `name` can be used as an element name as it is (map keys become elements, as in Kallisti's report). */
export function isXmlName(name: string): boolean {
  return ELEMENT_NAME.test(name) && !/^xml/i.test(name);
}

/** `name="value"` pairs for a start tag, skipping undefined values. */
export function xmlAttributes(attributes: Record<string, string | number | undefined>): string {
  let out = '';
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined) out += ` ${name}="${xmlAttribute(String(value))}"`;
  }
  return out;
}
