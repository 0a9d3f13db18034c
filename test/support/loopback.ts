import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Loopback {
  url: string;
  /** Closes open connections too, so a test never waits on a kept-alive socket. */
  stop(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 and a free port, answering with `handler`: a target for experiments to call. */
export async function startLoopback(handler: RequestListener): Promise<Loopback> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
