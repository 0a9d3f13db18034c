import http from 'node:http';
import { DEFAULT_MAX_BODY_BYTES } from '../../functions/api/app.js';
import { startLocalServer, type LocalServer } from '../../functions/local/server.js';
import type { AppLogger } from '../../functions/logging.js';

/** The 256 KiB body limit of openapi.json, through the real local server: 413 without buffering the rest. */
const quiet: AppLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
let server: LocalServer;

beforeAll(async () => {
  server = await startLocalServer({ port: 0, logger: quiet });
});
afterAll(() => server.close());

interface Answer {
  status: number;
  body: string;
}

/** Sends `chunks` one by one; with `chunked` no Content-Length is declared (Transfer-Encoding: chunked). */
function send(chunks: Buffer[], chunked: boolean): Promise<Answer> {
  const url = new URL('/experiment', server.url);
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...(chunked ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': String(total) }) };
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (d: string) => (body += d));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    // The server may answer and close before every chunk is written; the answer is what counts.
    request.on('error', reject);
    const write = (i: number): void => {
      if (i === chunks.length) return void request.end();
      if (request.destroyed) return;
      if (request.write(chunks[i] as Buffer)) setImmediate(() => write(i + 1));
      else request.once('drain', () => write(i + 1));
    };
    write(0);
  });
}

const experiment = JSON.stringify({ name: 'padded', steps: [{ step: 'w', do: 'cm.wait', where: { time_in_seconds: 1 } }] });
const padded = (bytes: number): Buffer => Buffer.from(experiment + ' '.repeat(bytes - experiment.length));
const split = (buffer: Buffer, size: number): Buffer[] => Array.from({ length: Math.ceil(buffer.length / size) }, (_, i) => buffer.subarray(i * size, (i + 1) * size));

describe('local server body limit', () => {
  it.each([
    ['a 300 KB body with Content-Length', 300_000, false],
    ['valid JSON padded to 5 MB with Content-Length', 5 * 1024 * 1024, false],
    ['a 300 KB chunked body', 300_000, true],
    ['valid JSON padded to 5 MB, chunked', 5 * 1024 * 1024, true],
    ['one byte over the limit, chunked', DEFAULT_MAX_BODY_BYTES + 1, true],
  ])('answers 413 to %s', async (_name, bytes, chunked) => {
    const answer = await send(split(padded(bytes), 64 * 1024), chunked);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({ message: `Request body is larger than ${DEFAULT_MAX_BODY_BYTES} bytes, the limit.` });
  });

  it.each([false, true])('accepts a body of exactly the limit (chunked: %s)', async (chunked) => {
    const answer = await send(split(padded(DEFAULT_MAX_BODY_BYTES), 10_000), chunked);
    expect(answer.status).toBe(201);
  });

  it('keeps answering after refusing', async () => {
    await send([padded(300_000)], true);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});
