import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Lru } from '../src/lru.ts';

test('Lru: bounded, the least recently used goes first; peek does not count as a use; 0 keeps nothing', () => {
  const lru = new Lru<string, number>(2);
  lru.set('a', 1);
  lru.set('b', 2);
  assert.equal(lru.get('a'), 1, 'a is used: b is now the oldest');
  lru.set('c', 3);
  assert.deepEqual([...lru.entries()], [['a', 1], ['c', 3]], 'b went first');
  assert.equal(lru.peek('a'), 1);
  lru.set('d', 4);
  assert.deepEqual([...lru.entries()].map(([k]) => k), ['c', 'd'], 'peek did not save a');
  assert.equal(lru.delete('c'), true);
  assert.equal(lru.size, 1);
  lru.clear();
  assert.equal(lru.size, 0);
  const none = new Lru<string, number>(0);
  none.set('x', 1);
  assert.equal(none.get('x'), undefined, 'a max of 0 keeps nothing');
});
