import ssh2 from 'ssh2';

/**
 * A fresh ed25519 key pair for one guest, one that ssh2 itself can read
 * back. ssh2's generateKeyPairSync strips leading zero bytes of the public
 * key, so about one pair in 256 parses as "Malformed OpenSSH private/public
 * key" (mscdex/ssh2#1390, #1513, open): a reduce in a fuzz campaign lost a
 * whole finding to it. Such a pair is drawn again.
 */
export interface KeyPair {
  private: string;
  public: string;
}

export function freshKeyPair(
  comment: string,
  generate: (type: 'ed25519', o: { comment: string }) => KeyPair = ssh2.utils.generateKeyPairSync,
): KeyPair {
  for (let i = 0; i < 16; i++) {
    const keys = generate('ed25519', { comment });
    const readable = [keys.private, keys.public].every((k) => !(ssh2.utils.parseKey(k) instanceof Error));
    if (readable) return keys;
  }
  throw new Error('ssh2 generated 16 unreadable ed25519 key pairs in a row');
}
