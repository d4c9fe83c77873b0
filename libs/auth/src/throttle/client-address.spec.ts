import { clientAddressKey } from './client-address';

describe('clientAddressKey', () => {
  it('counts an IPv4 caller by its address, mapped or not', () => {
    expect(clientAddressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientAddressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts every address of one IPv6 /56 as one caller, and other /56s apart', () => {
    const key = clientAddressKey('2001:db8:1:2a00::1');
    expect(key).toBe('2001:db8:1:2a00::/56');
    for (const ip of ['2001:db8:1:2aff:ffff:ffff:ffff:ffff', '2001:0db8:0001:2a42::beef', '2001:DB8:1:2A01::9'])
      expect(clientAddressKey(ip)).toBe(key);
    expect(clientAddressKey('2001:db8:1:2b00::1')).not.toBe(key);
    expect(clientAddressKey('::1')).toBe('::/56');
  });

  it('keeps what is no address as it is', () => {
    expect(clientAddressKey(undefined)).toBe('unknown');
    expect(clientAddressKey('')).toBe('unknown');
    expect(clientAddressKey('not-an-ip')).toBe('not-an-ip');
  });
});
