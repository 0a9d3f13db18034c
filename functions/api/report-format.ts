import type { ReportFormat } from '../use-cases/report.js';

export const REPORT_CONTENT_TYPES: Record<ReportFormat, string> = {
  xml: 'application/xml; charset=utf-8',
  junit: 'application/xml; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

export const REPORT_FILE_NAMES: Record<ReportFormat, string> = {
  xml: 'kallisti-report.xml',
  junit: 'kallisti-report.junit.xml',
  json: 'kallisti-report.json',
};

interface MediaRange {
  type: string;
  q: number;
}

function parseAccept(accept: string): MediaRange[] {
  return accept.split(',').flatMap((part) => {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (!type) return [];
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    return [{ type, q: Number.isFinite(q) ? q : 0 }];
  });
}

/** How well `ranges` accept `type`: its q and how specific the matching range is (exact 2, `type/*` 1, `*\/*` 0). */
function acceptance(ranges: MediaRange[], type: string): { q: number; specificity: number } {
  let best = { q: 0, specificity: -1 };
  for (const range of ranges) {
    const specificity = range.type === type ? 2 : range.type === `${type.split('/')[0]}/*` ? 1 : range.type === '*/*' ? 0 : -1;
    if (specificity > best.specificity) best = { q: range.q, specificity };
  }
  return best;
}

/**
 * `format` wins when given; otherwise JSON only when the Accept header prefers
 * application/json to XML (by q, then by how specifically it names it), so
 * browsers, curl and Kallisti's clients keep getting XML.
 */
export function chooseReportFormat(format: string | undefined, accept: string | undefined): ReportFormat {
  if (format === 'xml' || format === 'junit' || format === 'json') return format;
  if (!accept) return 'xml';
  const ranges = parseAccept(accept);
  const json = acceptance(ranges, 'application/json');
  const xml = [acceptance(ranges, 'application/xml'), acceptance(ranges, 'text/xml')].reduce((a, b) => (b.q > a.q || (b.q === a.q && b.specificity > a.specificity) ? b : a));
  const prefersJson = json.q > xml.q || (json.q === xml.q && json.q > 0 && json.specificity > xml.specificity);
  return prefersJson ? 'json' : 'xml';
}
