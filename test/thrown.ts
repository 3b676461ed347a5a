import { strict as assert } from 'node:assert';

/**
 * Runs `fn`, which must throw an instance of `type`, and returns what it
 * threw, so a test can look at the message or the fields. Anything else
 * thrown, or nothing, fails the test.
 */
export function thrown<E extends Error>(fn: () => unknown, type: abstract new (...args: never[]) => E): E {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof type, `expected a ${type.name}, got ${String(e)}`);
    return e;
  }
  assert.fail(`expected a ${type.name}`);
}
