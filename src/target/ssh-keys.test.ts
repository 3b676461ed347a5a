import { strict as assert } from 'node:assert';
import ssh2 from 'ssh2';
import { freshKeyPair } from './ssh-keys.js';

describe('per-guest ssh keys', () => {
  it('draws again when ssh2 made a pair it cannot read back (mscdex/ssh2#1513)', () => {
    const good = ssh2.utils.generateKeyPairSync('ed25519');
    // What the bug makes: a public key one byte short of its 32.
    const blob = Buffer.from(good.public.split(' ')[1]!, 'base64');
    const shortBlob = Buffer.concat([blob.subarray(0, 15), Buffer.from([0, 0, 0, 31]), blob.subarray(20)]);
    const short = `ssh-ed25519 ${shortBlob.toString('base64')}`;
    assert.ok(ssh2.utils.parseKey(short) instanceof Error, 'the stand-in is unreadable');
    let calls = 0;
    const keys = freshKeyPair('t', () => (++calls === 1 ? { ...good, public: short } : good));
    assert.equal(calls, 2);
    assert.equal(keys.public, good.public);
  });

  it('gives up, saying so, when every pair is unreadable', () => {
    assert.throws(() => freshKeyPair('t', () => ({ private: 'x', public: 'y' })), /16 unreadable ed25519 key pairs/);
  });
});
