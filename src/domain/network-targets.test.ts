import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAllowedTarget, isPrivateAddress, parseAllowedTargets } from './network-targets.ts';

test('private, loopback, link-local and reserved addresses are told from public ones, v4 and v6', () => {
  for (const ip of [
    '127.0.0.1',
    '127.255.1.2',
    '10.0.0.1',
    '172.31.255.255',
    '192.168.0.10',
    '169.254.169.254',
    '100.100.100.200',
    '0.0.0.0',
    '255.255.255.255',
    '::1',
    '::',
    'fd12:3456::1',
    'fe80::1%eth0',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '2001:db8::1',
    'not-an-ip',
  ])
    assert.equal(isPrivateAddress(ip), true, ip);
  for (const ip of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])
    assert.equal(isPrivateAddress(ip), false, ip);
});

test('the allow-list takes host names, addresses and CIDR ranges, and names a bad entry', () => {
  const allowed = parseAllowedTargets(' hooks.internal , 10.20.0.0/16, [fd00::]/8 ,127.0.0.1');
  assert.equal(isAllowedTarget(allowed, 'HOOKS.internal'), true);
  assert.equal(isAllowedTarget(allowed, 'other.internal', '10.20.3.4'), true);
  assert.equal(isAllowedTarget(allowed, 'other.internal', '10.21.0.1'), false);
  assert.equal(isAllowedTarget(allowed, '[fd00::5]', 'fd00::5'), true);
  assert.equal(isAllowedTarget(allowed, 'x', '127.0.0.2'), false);
  assert.deepEqual(parseAllowedTargets(''), []);
  assert.throws(() => parseAllowedTargets('10.0.0.0/40'), /"10.0.0.0\/40"/);
  assert.throws(() => parseAllowedTargets('http://x/'), /not a host name/);
});
