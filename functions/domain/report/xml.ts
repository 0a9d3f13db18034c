import type { Json } from '../types.js';
import { reportedExperimentFields, reportedTrialFields, type Report } from './model.js';
import { isXmlName, xmlAttribute, xmlAttributes, xmlText } from './xml-escape.js';
import { REPORT_STYLESHEET, REPORT_STYLESHEET_ID } from './xml-stylesheet.js';

export const XML_LIST_ITEM = 'list-item';

/**
 * Kallisti's XML mapping of a JSON value: object keys become elements, array
 * items `<list-item>`, null an empty element. A key that is not a usable
 * element name (`a b`, `1st`, `x:y`, `<k>`) becomes `<entry key="…">`.
 */
export function jsonToXml(value: Json | undefined): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map((item) => element(XML_LIST_ITEM, jsonToXml(item))).join('');
  if (typeof value === 'object') return Object.entries(value).map(([key, item]) => element(key, jsonToXml(item))).join('');
  return xmlText(String(value));
}

function element(name: string, content: string): string {
  const [open, close] = isXmlName(name) ? [name, name] : [`entry key="${xmlAttribute(name)}"`, 'entry'];
  return content === '' ? `<${open}/>` : `<${open}>${content}</${close}>`;
}

export const REPORT_TITLE_TAG = 'report-title';
export const REPORT_TITLE = 'Kallisti Report';

/**
 * The report in Kallisti's XML format, one chunk per experiment opening and per
 * trial, so the whole document is never held at once:
 * `<report><xsl:stylesheet/><report-title/><root><list-item>…experiment…<trials><list-item>…trial…`.
 */
export async function* renderXml(report: Report): AsyncGenerator<string> {
  yield '<?xml version="1.0" encoding="utf-8"?>\n' +
    `<?xml-stylesheet type="text/xsl" href="#${REPORT_STYLESHEET_ID}"?>\n` +
    // Declares the stylesheet's id attribute as an ID, so `href="#reportstyle"` finds it.
    '<!DOCTYPE report [<!ATTLIST xsl:stylesheet id ID #REQUIRED>]>\n' +
    `<report${xmlAttributes({ generated_at: report.generatedAt })}>\n${REPORT_STYLESHEET}\n` +
    // Kallisti's renderer puts the title before the data.
    `<${REPORT_TITLE_TAG}>${REPORT_TITLE}</${REPORT_TITLE_TAG}>\n<root>`;
  for await (const section of report.sections) {
    yield `\n<${XML_LIST_ITEM}>${jsonToXml(reportedExperimentFields(section.experiment))}<trials>`;
    for await (const trial of section.trials) yield `\n<${XML_LIST_ITEM}>${jsonToXml(reportedTrialFields(trial))}</${XML_LIST_ITEM}>`;
    yield `</trials></${XML_LIST_ITEM}>`;
  }
  yield '\n</root>\n</report>\n';
}
