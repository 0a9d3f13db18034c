import { childElements, type XmlElement } from './xml.js';

/**
 * The JUnit XML schema CI servers read, as Jenkins' xUnit plugin declares it
 * (junit-10.xsd, the Ant format): which elements, in which order, which
 * attributes (required ones, and no unknown ones), which must be counts or
 * durations. A hand-written check, because no pure-JS XSD validator is in
 * common use; it returns every violation found.
 */
interface ElementRule {
  required: string[];
  optional: string[];
  /** Child element → [min, max]; listed in the order the schema's sequence imposes (when `ordered`). */
  children: Record<string, [number, number]>;
  ordered: boolean;
  /** Whether character data is allowed (outside whitespace between elements). */
  text: boolean;
}

const MANY = Number.POSITIVE_INFINITY;

const RULES: Record<string, ElementRule> = {
  testsuites: { required: [], optional: ['name', 'time', 'tests', 'failures', 'disabled', 'errors'], children: { testsuite: [0, MANY] }, ordered: true, text: false },
  testsuite: {
    required: ['name', 'tests'],
    optional: ['failures', 'errors', 'group', 'time', 'disabled', 'skipped', 'timestamp', 'hostname', 'id', 'package', 'file', 'log', 'url', 'version'],
    children: { properties: [0, 1], testcase: [0, MANY], 'system-out': [0, 1], 'system-err': [0, 1] },
    ordered: true,
    text: false,
  },
  properties: { required: [], optional: [], children: { property: [1, MANY] }, ordered: true, text: false },
  property: { required: ['name', 'value'], optional: [], children: {}, ordered: true, text: false },
  testcase: {
    required: ['name'],
    optional: ['assertions', 'time', 'timestamp', 'classname', 'status', 'class', 'file', 'line', 'log', 'group', 'url'],
    children: { skipped: [0, 1], error: [0, MANY], failure: [0, MANY], 'system-out': [0, MANY], 'system-err': [0, MANY] },
    ordered: false,
    text: false,
  },
  failure: { required: [], optional: ['message', 'type'], children: {}, ordered: true, text: true },
  error: { required: [], optional: ['message', 'type'], children: {}, ordered: true, text: true },
  skipped: { required: [], optional: ['message'], children: {}, ordered: true, text: true },
  'system-out': { required: [], optional: [], children: {}, ordered: true, text: true },
  'system-err': { required: [], optional: [], children: {}, ordered: true, text: true },
};

const COUNT_ATTRIBUTES = new Set(['tests', 'failures', 'errors', 'skipped', 'disabled', 'assertions']);
const COUNT = /^\d+$/;
const DURATION = /^\d+(\.\d+)?$/;

function check(element: XmlElement, where: string, problems: string[]): void {
  const rule = RULES[element.name];
  if (!rule) {
    problems.push(`${where}: unknown element <${element.name}>`);
    return;
  }
  for (const name of rule.required) if (!(name in element.attributes)) problems.push(`${where}: missing attribute ${name}`);
  for (const [name, value] of Object.entries(element.attributes)) {
    if (!rule.required.includes(name) && !rule.optional.includes(name)) problems.push(`${where}: unknown attribute ${name}`);
    if (COUNT_ATTRIBUTES.has(name) && !COUNT.test(value)) problems.push(`${where}: ${name}="${value}" is not a count`);
    if (name === 'time' && !DURATION.test(value)) problems.push(`${where}: time="${value}" is not a duration in seconds`);
  }
  if (!rule.text && element.children.some((c) => typeof c === 'string' && c.trim() !== '')) problems.push(`${where}: text is not allowed`);
  const children = childElements(element);
  const order = Object.keys(rule.children);
  let position = 0;
  for (const [index, c] of children.entries()) {
    const at = `${where}/${c.name}[${index}]`;
    if (!(c.name in rule.children)) {
      problems.push(`${at}: not allowed in <${element.name}>`);
      continue;
    }
    if (rule.ordered) {
      const rank = order.indexOf(c.name);
      if (rank < position) problems.push(`${at}: out of order in <${element.name}>`);
      position = Math.max(position, rank);
    }
    check(c, at, problems);
  }
  for (const [name, [min, max]] of Object.entries(rule.children)) {
    const n = children.filter((c) => c.name === name).length;
    if (n < min || n > max) problems.push(`${where}: ${n} <${name}> (allowed ${min} to ${max})`);
  }
}

/** Schema violations of a JUnit document whose root is `<testsuites>` (empty when valid). */
export function junitSchemaProblems(root: XmlElement): string[] {
  const problems: string[] = [];
  if (root.name !== 'testsuites') problems.push(`root is <${root.name}>, not <testsuites>`);
  check(root, root.name, problems);
  return problems;
}
