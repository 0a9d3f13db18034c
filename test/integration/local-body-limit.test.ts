import { DEFAULT_MAX_BODY_BYTES } from '../../functions/api/app.js';
import { startLocalServer, type LocalServer } from '../../functions/local/server.js';
import type { AppLogger } from '../../functions/logging.js';
import { sendChunks } from '../support/http-wire.js';

/** The 256 KiB body limit of openapi.json, through the real local server: 413 without buffering the rest. */
const quiet: AppLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
let server: LocalServer;

beforeAll(async () => {
  server = await startLocalServer({ port: 0, logger: quiet });
});
afterAll(() => server.close());

const send = (chunks: Buffer[], chunked: boolean) => sendChunks(server.url, { method: 'POST', path: '/experiment', chunks, chunked });

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
