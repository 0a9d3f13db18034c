import fc from 'fast-check';
import { reportOf, type Report } from '../../functions/domain/report/model.js';
import { jsonToXml, renderXml } from '../../functions/domain/report/xml.js';
import { isXmlName, REPLACEMENT_CHARACTER, xmlAttribute, xmlSafe, xmlText } from '../../functions/domain/report/xml-escape.js';
import { TRIAL_STATUSES, type Trial } from '../../functions/domain/trial.js';
import { HOSTILE, HOSTILE_KEYS, HOSTILE_TEXT, hostileExperiment, trialIn } from '../support/report-fixtures.js';
import { child, childElements, descendants, parseXml, textOf, type XmlElement } from '../support/xml.js';

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk;
  return out;
}

const GENERATED = '2024-05-02T00:00:00.000Z';

/** Any UTF-16 text: control characters, lone surrogates, astral pairs and markup. */
const anyText = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)),
      fc.string({ unit: 'grapheme' }),
      fc.constantFrom('<', '>', '&', '"', "'", ']]>', '\r', '\r\n', '\t', '\u0000', '\u001b', '\ud800', '\udfff', '🔥', '\uFFFE', '&amp;'),
    ),
    { maxLength: 30 },
  )
  .map((parts) => parts.join(''));

describe('xml escaping', () => {
  it('replaces every character XML 1.0 forbids with U+FFFD and keeps the rest', () => {
    expect(xmlSafe('a\u0000b\u0008c\u001bd\u000be\uFFFEf\uFFFF')).toBe(`a${REPLACEMENT_CHARACTER}b${REPLACEMENT_CHARACTER}c${REPLACEMENT_CHARACTER}d${REPLACEMENT_CHARACTER}e${REPLACEMENT_CHARACTER}f${REPLACEMENT_CHARACTER}`);
    expect(xmlSafe('lone \ud800 and \udfff, pair \udc00\ud800')).toBe(`lone ${REPLACEMENT_CHARACTER} and ${REPLACEMENT_CHARACTER}, pair ${REPLACEMENT_CHARACTER}${REPLACEMENT_CHARACTER}`);
    const legal = 'tab\t LF\n CR\r emoji 🔥👩‍👩‍👧 DEL\u007f C1\u0085 BMP end \uFFFD astral \u{10FFFF}';
    expect(xmlSafe(legal)).toBe(legal);
  });

  it('escapes markup in text and attributes without CDATA', () => {
    expect(xmlText('<a> & ]]> "q"')).toBe('&lt;a&gt; &amp; ]]&gt; "q"');
    expect(xmlAttribute('<a> & "q" \'s\'\t\n\r')).toBe('&lt;a&gt; &amp; &quot;q&quot; &apos;s&apos;&#9;&#10;&#13;');
  });

  it('round-trips any text through a strict parser, as text and as an attribute', () => {
    fc.assert(
      fc.property(anyText, (value) => {
        const { root } = parseXml(`<a v="${xmlAttribute(value)}">${xmlText(value)}</a>`);
        expect(textOf(root)).toBe(xmlSafe(value));
        expect(root.attributes['v']).toBe(xmlSafe(value));
      }),
      { numRuns: 500 },
    );
  });

  it('accepts ASCII NCNames as element names and nothing that needs a namespace or escaping', () => {
    for (const name of ['team', 'base_url', 'Content-Type', 'response.status', '_x']) expect(isXmlName(name)).toBe(true);
    for (const name of ['', 'a b', '1st', '-x', '.x', 'x:y', '<k>', 'xmlns', 'XMLthing', 'emoji🔥', 'é']) expect(isXmlName(name)).toBe(false);
  });

  it('maps JSON as Kallisti does: keys to elements, items to list-item, null to an empty element', () => {
    expect(jsonToXml({ a: 1, b: [true, null, 'x'], c: null, 'd e': { f: '<' } })).toBe(
      '<a>1</a><b><list-item>true</list-item><list-item/><list-item>x</list-item></b><c/><entry key="d e"><f>&lt;</f></entry>',
    );
  });
});

/** Code points XML 1.0 does not allow (lone surrogates come out of the iteration as themselves). */
function forbiddenCodePoints(text: string): number[] {
  const allowed = (c: number) => c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || c >= 0x10000;
  return [...text].map((ch) => ch.codePointAt(0) ?? 0).filter((c) => !allowed(c));
}

function experimentElements(root: XmlElement): XmlElement[] {
  return childElements(child(root, 'root'), 'list-item');
}

function trialElements(experiment: XmlElement): XmlElement[] {
  return childElements(child(experiment, 'trials'), 'list-item');
}

/** Reads a map written by jsonToXml back into an object (entry elements by their key). */
function mapOf(element: XmlElement): Record<string, string> {
  return Object.fromEntries(childElements(element).map((e) => [e.name === 'entry' && 'key' in e.attributes ? (e.attributes['key'] as string) : e.name, textOf(e)]));
}

describe('renderXml', () => {
  const experiment = hostileExperiment();
  const trials: Trial[] = TRIAL_STATUSES.map((status, i) => trialIn(experiment.id, status, `2024-05-01T1${i}:00:00.000Z`));

  it('writes a well-formed Kallisti report with its stylesheet, whatever the steps wrote', async () => {
    const xml = await text(renderXml(reportOf(GENERATED, [{ experiment, trials }])));
    const document = parseXml(xml);
    expect(document.instructions).toEqual([{ target: 'xml-stylesheet', body: 'type="text/xsl" href="#reportstyle"' }]);
    expect(document.doctype).toContain('<!ATTLIST xsl:stylesheet id ID #REQUIRED>');
    const { root } = document;
    expect(root.name).toBe('report');
    expect(root.attributes['generated_at']).toBe(GENERATED);
    expect(child(root, 'xsl:stylesheet').attributes['id']).toBe('reportstyle');
    // Nothing XML 1.0 forbids survived; the replacement character stands in for it.
    expect(forbiddenCodePoints(xml)).toEqual([]);

    const [reported] = experimentElements(root);
    expect(reported).toBeDefined();
    const exp = reported as XmlElement;
    expect(textOf(child(exp, 'name'))).toBe(xmlSafe(experiment.name));
    expect(textOf(child(exp, 'description'))).toBe(xmlSafe(HOSTILE_TEXT));
    expect(mapOf(child(exp, 'metadata'))).toEqual(Object.fromEntries(Object.entries(HOSTILE_KEYS).map(([k, v]) => [k, xmlSafe(v)])));
    expect(textOf(child(child(child(exp, 'steps'), 'list-item'), 'step'))).toBe(xmlSafe(`probe ${HOSTILE[2]}`));

    const reportedTrials = trialElements(exp);
    expect(reportedTrials.map((t) => textOf(child(t, 'status')))).toEqual([...TRIAL_STATUSES]);
    const failed = reportedTrials[TRIAL_STATUSES.indexOf('Failed')] as XmlElement;
    expect(textOf(child(failed, 'id'))).toBe(trials[TRIAL_STATUSES.indexOf('Failed')]?.id);
    expect(textOf(child(failed, 'initiated_by'))).toBe(xmlSafe(`tester ${HOSTILE[3]}`));
    expect(textOf(child(failed, 'executed_at'))).toBe('2024-05-01T13:00:00.100Z');
    expect(mapOf(child(failed, 'parameters'))).toEqual({ who: xmlSafe(HOSTILE_TEXT) });
    const logs = descendants(child(failed, 'trial_record'), 'logs').flatMap((l) => childElements(l, 'list-item').map(textOf));
    const source = trials[TRIAL_STATUSES.indexOf('Failed')] as Trial;
    const expected = [...source.trial_record.pre_steps, ...source.trial_record.steps, ...source.trial_record.post_steps, ...source.trial_record.result].flatMap((e) => e.logs);
    expect(logs).toEqual(expected.map(xmlSafe));
    // CR survives as a character reference, not normalised to LF.
    expect(logs.some((l) => l.includes('CR\r\nLF'))).toBe(true);
  });

  it('writes the record phases in step order and null times as empty elements', async () => {
    const scheduled = trialIn(experiment.id, 'Scheduled', '2024-05-01T10:00:00.000Z');
    const { root } = parseXml(await text(renderXml(reportOf(GENERATED, [{ experiment, trials: [scheduled] }]))));
    const trial = trialElements(experimentElements(root)[0] as XmlElement)[0] as XmlElement;
    expect(childElements(child(trial, 'trial_record')).map((e) => e.name)).toEqual(['pre_steps', 'steps', 'post_steps', 'result']);
    expect(child(trial, 'executed_at').children).toEqual([]);
    expect(child(trial, 'schedule_id').children).toEqual([]);
  });

  it('writes an empty report when nothing is selected', async () => {
    const { root } = parseXml(await text(renderXml(reportOf(GENERATED, []))));
    expect(experimentElements(root)).toEqual([]);
  });

  it('streams: one chunk per trial, read from the source only as it is written', async () => {
    let produced = 0;
    async function* source(): AsyncGenerator<Trial> {
      for (let i = 0; i < 1000; i += 1) {
        produced += 1;
        yield trialIn(experiment.id, 'Succeeded', '2024-05-01T10:00:00.000Z');
      }
    }
    const report: Report = {
      generatedAt: GENERATED,
      tally: reportOf(GENERATED, []).tally,
      sections: (async function* () {
        yield { experiment, tally: reportOf(GENERATED, []).tally, trials: source() };
      })(),
    };
    const chunks = renderXml(report);
    let written = 0;
    for await (const chunk of chunks) {
      if (chunk.includes('<trial_record>')) {
        written += 1;
        expect(produced).toBe(written);
      }
    }
    expect(written).toBe(1000);
  });
});
