import type { LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { isForbiddenAddress, isLoopbackAddress, normalise } from './address-policy.js';

/**
 * Where outbound HTTP from a step (or any module speaking HTTP for a trial) may
 * go. One policy for every such module: the cm.http_* steps today, and any module
 * that fetches over HTTP calls `refusedBecause` through `guardedRequest`.
 */
export interface EgressPolicy {
  /** Allow requests to cloud metadata and link-local addresses (off by default; KALLISTI_ALLOW_LINK_LOCAL=true). */
  allowLinkLocal: boolean;
  /** Refuse this host: loopback and the unspecified address (on by default on AWS Lambda, where the runtime API listens there). */
  blockLoopback?: boolean;
  /** When set, only these hosts and addresses may be reached (KALLISTI_EGRESS_ALLOW); absent: anything the rules above allow. */
  allow?: EgressAllowList;
  /** How hostnames are resolved; tests map names to chosen addresses. Every address returned is checked before connecting. */
  resolve?: HostResolver;
}

/** Every address a hostname resolves to (dns.lookup with `all: true` by default). */
export type HostResolver = (hostname: string, family: 0 | 4 | 6) => Promise<LookupAddress[]>;

export interface EgressAllowList {
  /** The entries as given, for messages. */
  readonly entries: readonly string[];
  /** Exact host names, lower case, without a trailing dot. */
  readonly hosts: ReadonlySet<string>;
  /** `*.example.com` entries as `.example.com`: any name below it, not the name itself. */
  readonly suffixes: readonly string[];
  /** IP addresses and CIDR ranges. */
  readonly addresses: BlockList;
}

export class EgressConfigError extends Error {}

// A DNS name: labels of letters, digits and hyphens (underscores appear in real zones), dot-separated.
const HOST_NAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/**
 * Parses a comma- (or space-) separated allow-list: host names (`api.example.com`),
 * subdomain wildcards (`*.example.com`), IP addresses and CIDR ranges
 * (`10.0.0.0/8`, `2001:db8::/32`). An empty list is refused: it would allow
 * nothing, which is never what someone setting it means.
 */
export function parseEgressAllowList(text: string, source = 'KALLISTI_EGRESS_ALLOW'): EgressAllowList {
  const entries = text.split(/[\s,]+/).filter((entry) => entry !== '');
  if (entries.length === 0) throw new EgressConfigError(`${source} is empty: list the hosts or CIDR ranges HTTP steps may reach, e.g. api.example.com,10.0.0.0/8`);
  const hosts = new Set<string>();
  const suffixes: string[] = [];
  const addresses = new BlockList();
  for (const entry of entries) {
    const value = entry.toLowerCase().replace(/\.$/, '');
    const cidr = /^(.+)\/(\d{1,3})$/.exec(value);
    if (cidr) {
      const base = normalise(cidr[1] as string);
      const prefix = Number(cidr[2]);
      const version = isIP(base);
      if (version === 0 || prefix > (version === 4 ? 32 : 128)) throw new EgressConfigError(`${source}: "${entry}" is not a valid CIDR range`);
      addresses.addSubnet(base, prefix, version === 4 ? 'ipv4' : 'ipv6');
    } else if (isIP(normalise(value)) !== 0) {
      const ip = normalise(value);
      addresses.addAddress(ip, isIP(ip) === 4 ? 'ipv4' : 'ipv6');
    } else if (value.startsWith('*.') && HOST_NAME.test(value.slice(2))) {
      suffixes.push(value.slice(1));
    } else if (HOST_NAME.test(value) && !/^[\d.]+$/.test(value)) {
      hosts.add(value);
    } else {
      throw new EgressConfigError(`${source}: "${entry}" is not a host name, *.domain, IP address or CIDR range`);
    }
  }
  return { entries, hosts, suffixes, addresses };
}

/** The policy for this process: link-local refused unless KALLISTI_ALLOW_LINK_LOCAL=true, loopback refused on Lambda, KALLISTI_EGRESS_ALLOW when set. */
export function egressPolicyFromEnv(env: NodeJS.ProcessEnv): EgressPolicy {
  const policy: EgressPolicy = {
    allowLinkLocal: env['KALLISTI_ALLOW_LINK_LOCAL'] === 'true',
    blockLoopback: env['AWS_LAMBDA_RUNTIME_API'] !== undefined,
  };
  const allow = env['KALLISTI_EGRESS_ALLOW'];
  if (allow !== undefined && allow.trim() !== '') policy.allow = parseEgressAllowList(allow);
  return policy;
}

function hostAllowed(list: EgressAllowList, hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return list.hosts.has(name) || list.suffixes.some((suffix) => name.endsWith(suffix));
}

function addressAllowed(list: EgressAllowList, address: string): boolean {
  const ip = normalise(address);
  const version = isIP(ip);
  return version !== 0 && list.addresses.check(ip, version === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Why `policy` refuses connecting to `address` (what `hostname` resolved to; the
 * same string for a literal IP), or undefined when it may be used. The address
 * rules always apply, even to a host on the allow-list: a name can resolve anywhere.
 */
export function refusedBecause(policy: EgressPolicy, hostname: string, address: string): string | undefined {
  if (!policy.allowLinkLocal && isForbiddenAddress(address)) return 'cloud metadata and link-local addresses are not allowed';
  if (policy.blockLoopback && isLoopbackAddress(address)) return 'loopback addresses are not allowed on AWS Lambda (0.0.0.0 and :: reach loopback too)';
  if (policy.allow && !hostAllowed(policy.allow, hostname) && !addressAllowed(policy.allow, address)) {
    return `not on the egress allow-list (${policy.allow.entries.join(', ')})`;
  }
  return undefined;
}
