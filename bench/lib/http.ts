import { Agent, request } from 'node:http';

export interface HttpAnswer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * One keep-alive connection per target (maxSockets 1): every benchmark request
 * reuses a warm socket, as a client in a loop would, and the API and its floor
 * get identical client settings.
 */
export function keepAliveAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 1 });
}

export function httpCall(agent: Agent, baseUrl: string, method: string, path: string, body?: string): Promise<HttpAnswer> {
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const req = request({ agent, host: url.hostname, port: url.port, method, path: `${url.pathname}${url.search}`, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Calls and checks the status, so a benchmark never times error answers by mistake. */
export async function expectStatus(agent: Agent, baseUrl: string, method: string, path: string, status: number, body?: string): Promise<HttpAnswer> {
  const answer = await httpCall(agent, baseUrl, method, path, body);
  if (answer.status !== status) throw new Error(`${method} ${path} answered ${answer.status}, expected ${status}: ${answer.body.slice(0, 300)}`);
  return answer;
}
