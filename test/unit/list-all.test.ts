import { collect, LIST_CAPS } from '../../functions/use-cases/list-all.js';
import type { Page, PageRequest } from '../../functions/ports.js';

/** A store-like source: rows in order, a token is the index of the next row to read (as DynamoDB's LastEvaluatedKey points after the last row read). */
function source(rows: { id: number; size?: number; keep?: boolean }[]) {
  const requests: PageRequest[] = [];
  const fetchPage = async (page: PageRequest): Promise<Page<{ id: number; pad: string }>> => {
    requests.push(page);
    const start = page.nextToken === undefined ? 0 : Number(page.nextToken);
    const read = rows.slice(start, start + page.limit);
    const end = start + read.length;
    return {
      items: read.filter((r) => r.keep !== false).map((r) => ({ id: r.id, pad: 'x'.repeat(r.size ?? 0) })),
      nextToken: end < rows.length ? String(end) : undefined,
    };
  };
  return { fetchPage, requests };
}

const rows = (n: number, extra: Partial<{ size: number; keep: boolean }> = {}) => Array.from({ length: n }, (_, id) => ({ id, ...extra }));

describe('collect: lists without a limit answer every row up to the caps', () => {
  it('reads every row across store pages when no limit is given', async () => {
    const { fetchPage, requests } = source(rows(250));
    const result = await collect({}, fetchPage);
    expect(result.items.map((i) => i.id)).toEqual(rows(250).map((r) => r.id));
    expect(result.nextToken).toBeUndefined();
    expect(requests.map((r) => r.limit)).toEqual([100, 100, 100]);
  });

  it('stops at the item cap and answers a token for the rest', async () => {
    const { fetchPage } = source(rows(30));
    const result = await collect({}, fetchPage, { maxItems: 25, maxBytes: LIST_CAPS.maxBytes });
    expect(result.items).toHaveLength(25);
    const rest = await collect({ nextToken: result.nextToken }, fetchPage, { maxItems: 25, maxBytes: LIST_CAPS.maxBytes });
    expect(rest.items.map((i) => i.id)).toEqual([25, 26, 27, 28, 29]);
    expect(rest.nextToken).toBeUndefined();
  });

  it('stops before the byte cap inside a page, with a token right after the last item answered', async () => {
    const { fetchPage } = source(rows(10, { size: 1000 }));
    const result = await collect({}, fetchPage, { maxItems: 1000, maxBytes: 3500 });
    expect(result.items.map((i) => i.id)).toEqual([0, 1, 2]);
    const rest = await collect({ nextToken: result.nextToken }, fetchPage, { maxItems: 1000, maxBytes: 1_000_000 });
    expect(rest.items.map((i) => i.id)).toEqual([3, 4, 5, 6, 7, 8, 9]);
  });

  it('always answers at least one item, however large', async () => {
    const { fetchPage } = source(rows(2, { size: 5000 }));
    const result = await collect({}, fetchPage, { maxItems: 1000, maxBytes: 100 });
    expect(result.items.map((i) => i.id)).toEqual([0]);
    expect(result.nextToken).toBe('1');
  });

  it('with a limit, fills the page even when a filter drops rows, and the token resumes exactly', async () => {
    const data = rows(20).map((r) => ({ ...r, keep: r.id % 2 === 0 }));
    const { fetchPage } = source(data);
    const first = await collect({ limit: 4 }, fetchPage);
    expect(first.items.map((i) => i.id)).toEqual([0, 2, 4, 6]);
    const second = await collect({ limit: 4, nextToken: first.nextToken }, fetchPage);
    expect(second.items.map((i) => i.id)).toEqual([8, 10, 12, 14]);
  });

  it('with a limit, reads no more than one page when nothing is filtered', async () => {
    const { fetchPage, requests } = source(rows(500));
    const result = await collect({ limit: 50 }, fetchPage);
    expect(result.items).toHaveLength(50);
    expect(result.nextToken).toBe('50');
    expect(requests).toEqual([{ limit: 50, nextToken: undefined }]);
  });
});
