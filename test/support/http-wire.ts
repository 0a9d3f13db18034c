import http from 'node:http';
import net from 'node:net';

/** HTTP requests as a hostile client sends them: chunked at chosen offsets, or bytes written straight to the socket. */

export interface WireAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface ChunkedRequest {
  method: string;
  path: string;
  chunks: Buffer[];
  /** Without it, Content-Length is declared; with it, Transfer-Encoding: chunked and one chunk per buffer. */
  chunked: boolean;
  headers?: Record<string, string>;
}

/** Sends the body chunk by chunk (waiting for each to drain); the server may answer and close before the last one. */
export function sendChunks(baseUrl: string, request: ChunkedRequest): Promise<WireAnswer> {
  const url = new URL(request.path, baseUrl);
  const total = request.chunks.reduce((n, c) => n + c.length, 0);
  const framing: Record<string, string> = request.chunked ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': String(total) };
  const headers = { 'Content-Type': 'application/json', ...framing, ...request.headers };
  return new Promise((resolve, reject) => {
    const outgoing = http.request(url, { method: request.method, headers, agent: false }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (d: Buffer) => parts.push(d));
      response.on('end', () => {
        const answerHeaders: Record<string, string> = {};
        for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') answerHeaders[name] = value;
        resolve({ status: response.statusCode ?? 0, headers: answerHeaders, body: Buffer.concat(parts).toString('utf8') });
      });
    });
    outgoing.on('error', reject);
    const write = (i: number): void => {
      if (outgoing.destroyed) return;
      if (i === request.chunks.length) return void outgoing.end();
      if (outgoing.write(request.chunks[i] as Buffer)) setImmediate(() => write(i + 1));
      else outgoing.once('drain', () => write(i + 1));
    };
    write(0);
  });
}

/** Splits `buffer` at the given offsets (sorted, duplicates and out-of-range ones ignored); never an empty chunk. */
export function splitAt(buffer: Buffer, offsets: number[]): Buffer[] {
  const cuts = [...new Set(offsets.filter((o) => o > 0 && o < buffer.length))].sort((a, b) => a - b);
  const bounds = [0, ...cuts, buffer.length];
  return bounds.slice(1).map((end, i) => buffer.subarray(bounds[i], end));
}

/** Decodes a chunked HTTP/1.1 body; undefined until its last chunk has arrived. */
function unchunk(raw: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(raw.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size)) return undefined;
    if (size === 0) return Buffer.concat(parts);
    if (raw.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/** The first whole answer in `raw`, or undefined while it is incomplete. */
function parseAnswer(raw: Buffer, closed: boolean): WireAnswer | undefined {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const [statusLine = '', ...lines] = raw.subarray(0, headEnd).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = raw.subarray(headEnd + 4);
  const length = headers['content-length'];
  const body = headers['transfer-encoding']?.toLowerCase() === 'chunked' ? unchunk(rest) : length !== undefined ? (rest.length >= Number(length) ? rest.subarray(0, Number(length)) : undefined) : closed ? rest : undefined;
  return body === undefined ? undefined : { status: Number(statusLine.split(' ')[1]), headers, body: body.toString('utf8') };
}

/**
 * Writes `bytes` to a new connection as they are (keeping it open for writing)
 * and reads the first answer; undefined when the server closes the connection,
 * or `timeoutMs` passes, without one.
 */
export function sendRaw(baseUrl: string, bytes: Buffer, timeoutMs = 10_000): Promise<WireAnswer | undefined> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    const socket = net.connect(Number(port), hostname, () => socket.write(bytes));
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    const finish = (answer: WireAnswer | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    socket.on('data', (d: Buffer) => {
      parts.push(d);
      const answer = parseAnswer(Buffer.concat(parts), false);
      if (answer) finish(answer);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after the answer was read is the server closing a connection it no longer trusts.
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
    socket.on('close', () => finish(parseAnswer(Buffer.concat(parts), true)));
  });
}
