import { isIPv4, isIPv6 } from 'node:net';

/**
 * Cloud metadata endpoints and link-local ranges: a chaos step must not be able
 * to read instance credentials (169.254.169.254, fd00:ec2::254, 169.254.0.0/16, fe80::/10).
 */
export function isForbiddenAddress(address: string): boolean {
  const ip = address.toLowerCase();
  if (isIPv4(ip)) return ip.startsWith('169.254.');
  if (isIPv6(ip)) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
    if (mapped?.[1]) return isForbiddenAddress(mapped[1]);
    if (/^fe[89ab][0-9a-f]:/.test(ip)) return true;
    return expandV6(ip) === expandV6('fd00:ec2::254');
  }
  return false;
}

function expandV6(ip: string): string {
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const middle = new Array(Math.max(0, 8 - h.length - t.length)).fill('0');
  return [...h, ...(ip.includes('::') ? middle : []), ...t].map((p) => p.padStart(4, '0')).join(':');
}
