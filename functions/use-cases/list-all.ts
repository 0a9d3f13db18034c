import type { Page, PageRequest } from '../ports.js';

/**
 * A list asked for without `limit` answers every row, as Kallisti does, in
 * one response up to these caps; past them the answer carries a token for the
 * rest (the `Link: rel="next"` header). The byte cap keeps the JSON well under
 * Lambda's 6 MB response limit.
 */
export const LIST_CAPS = { maxItems: 1000, maxBytes: 5_000_000 } as const;

/** Rows read from the store per round trip. */
const FETCH_SIZE = 100;

export interface ListRequest {
  /** Page size; absent means "everything, up to the caps". */
  limit?: number;
  nextToken?: string;
}

export type FetchPage<T> = (page: PageRequest) => Promise<Page<T>>;

const bytesOf = (item: unknown): number => Buffer.byteLength(JSON.stringify(item), 'utf8') + 1;

/**
 * Reads pages until `limit` items (or, without a limit, every item up to the
 * caps). `fetchPage` may answer fewer items than asked (a filter): reading
 * goes on from its token. The token answered always points just after the
 * last item answered, so nothing is skipped or repeated.
 */
export async function collect<T>(request: ListRequest, fetchPage: FetchPage<T>, caps: { maxItems: number; maxBytes: number } = LIST_CAPS): Promise<Page<T>> {
  const all = request.limit === undefined;
  const target = request.limit ?? caps.maxItems;
  const items: T[] = [];
  let bytes = 2;
  let token = request.nextToken;
  while (items.length < target) {
    let page = await fetchPage({ limit: Math.min(FETCH_SIZE, target - items.length), nextToken: token });
    if (all) {
      let fit = 0;
      let size = 0;
      for (const item of page.items) {
        if (bytes + size + bytesOf(item) > caps.maxBytes && (items.length > 0 || fit > 0)) break;
        size += bytesOf(item);
        fit += 1;
      }
      if (fit === 0 && page.items.length > 0) return { items, nextToken: token };
      if (fit < page.items.length) {
        // The byte cap falls inside this page: read again only as far as what fits, so the token lands right after it.
        page = await fetchPage({ limit: fit, nextToken: token });
        return { items: [...items, ...page.items], nextToken: page.nextToken };
      }
      bytes += page.items.reduce((sum, item) => sum + bytesOf(item), 0);
    }
    items.push(...page.items);
    token = page.nextToken;
    if (!token) return { items };
  }
  return { items, nextToken: token };
}
