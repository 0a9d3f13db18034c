import { isLoopbackAddress } from '../../functions/net/address-policy.js';
import { egressPolicyFromEnv, parseEgressAllowList, refusedBecause } from '../../functions/net/egress.js';

describe('this-host addresses (refused on AWS Lambda)', () => {
  it.each(['127.0.0.1', '127.1.2.3', '0.0.0.0', '0.1.2.3', '::1', '::', '[::]', '::ffff:0.0.0.0', '::ffff:0:0', '::ffff:127.0.0.1', '::ffff:7f00:1', '::127.0.0.1', '::ffff:0:7f00:1', '0:0:0:0:0:0:0:0'])('%s reaches this host', (address) => {
    expect(isLoopbackAddress(address)).toBe(true);
  });

  it.each(['1.0.0.0', '10.0.0.1', '128.0.0.1', '::2:0:0:0', 'fe80::1', 'example.com'])('%s does not', (address) => {
    expect(isLoopbackAddress(address)).toBe(false);
  });
});

describe('parseEgressAllowList', () => {
  it('reads host names, wildcards, addresses and CIDR ranges, comma or space separated', () => {
    const list = parseEgressAllowList('api.example.com, *.Internal.example.com 10.0.0.0/8,2001:db8::/32,203.0.113.7');
    expect([...list.hosts]).toEqual(['api.example.com']);
    expect(list.suffixes).toEqual(['.internal.example.com']);
    const policy = { allowLinkLocal: false, allow: list };
    expect(refusedBecause(policy, 'api.example.com', '198.51.100.1')).toBeUndefined();
    expect(refusedBecause(policy, 'x.internal.example.com', '198.51.100.1')).toBeUndefined();
    expect(refusedBecause(policy, 'internal.example.com', '198.51.100.1')).toContain('not on the egress allow-list');
    expect(refusedBecause(policy, 'evil-api.example.com', '198.51.100.1')).toContain('not on the egress allow-list');
    expect(refusedBecause(policy, 'anything.test', '10.9.8.7')).toBeUndefined();
    expect(refusedBecause(policy, 'anything.test', '::ffff:10.9.8.7')).toBeUndefined();
    expect(refusedBecause(policy, 'anything.test', '2001:db8::5')).toBeUndefined();
    expect(refusedBecause(policy, '203.0.113.7', '203.0.113.7')).toBeUndefined();
    expect(refusedBecause(policy, '203.0.113.8', '203.0.113.8')).toContain('not on the egress allow-list');
  });

  it.each([
    ['', 'is empty'],
    [' , ', 'is empty'],
    ['10.0.0.0/33', '"10.0.0.0/33" is not a valid CIDR range'],
    ['example.com/8', 'is not a valid CIDR range'],
    ['http://example.com', '"http://example.com" is not a host name'],
    ['*', '"*" is not a host name'],
    ['*.', 'is not a host name'],
    ['a..b', 'is not a host name'],
    ['1.2.3', 'is not a host name'],
  ])('refuses %j: %s', (text, message) => {
    expect(() => parseEgressAllowList(text)).toThrow(message);
  });
});

describe('egressPolicyFromEnv', () => {
  it('allows anything but link-local by default, refuses loopback on Lambda, reads KALLISTI_EGRESS_ALLOW', () => {
    expect(egressPolicyFromEnv({})).toEqual({ allowLinkLocal: false, blockLoopback: false });
    expect(egressPolicyFromEnv({ AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001', KALLISTI_ALLOW_LINK_LOCAL: 'true' })).toEqual({ allowLinkLocal: true, blockLoopback: true });
    const policy = egressPolicyFromEnv({ KALLISTI_EGRESS_ALLOW: 'example.com' });
    expect(refusedBecause(policy, 'example.com', '93.184.216.34')).toBeUndefined();
    expect(refusedBecause(policy, 'other.com', '93.184.216.35')).toContain('not on the egress allow-list (example.com)');
    expect(() => egressPolicyFromEnv({ KALLISTI_EGRESS_ALLOW: 'not a/host' })).toThrow('KALLISTI_EGRESS_ALLOW');
  });
});
