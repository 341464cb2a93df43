import { describe, expect, it } from 'vitest';
import mqemitter from 'mqemitter';
import { createMessageQueue } from '../src/message-queue.js';
import { cacheTopicMatches, type TopicMatcher } from '../src/topic-match-cache.js';

/** The Qlobber trie of a plain mqemitter, set up as aedes sets its bus (qlobber is mqemitter's, not a dependency here). */
const trie = () => (mqemitter({ matchEmptyLevels: true }) as unknown as { _matcher: TopicMatcher<number> })._matcher;

describe('the topic match cache', () => {
  it('answers as the plain trie does through every kind of subscription change', () => {
    const plain = trie();
    const cached = trie();
    cacheTopicMatches(cached);
    const topics = ['devices/a/telemetry', 'devices/b/telemetry', 'devices/a/status', 'devices//status', '$SYS/x/heartbeat'];
    const changes: ((q: TopicMatcher<number>) => unknown)[] = [
      (q) => q.add('devices/+/telemetry', 1),
      (q) => q.add('devices/#', 2),
      (q) => q.add('devices/a/status', 3),
      (q) => q.add('devices/+/telemetry', 4),
      (q) => q.add('devices/a/telemetry', 7),
      (q) => q.remove('devices/a/status', 3),
      (q) => q.remove('devices/+/telemetry', 1),
      (q) => q.remove('devices/#'),
      (q) => q.add('$SYS/+/heartbeat', 5),
      (q) => q.clear(),
      (q) => q.add('devices/+/+', 6),
    ];
    for (const change of changes) {
      change(plain);
      change(cached);
      // Asked twice: the second answer is the remembered one.
      for (const topic of topics) {
        expect(cached.match(topic)).toEqual(plain.match(topic));
        expect(cached.match(topic)).toEqual(plain.match(topic));
      }
    }
  });

  it('remembers an answer until a subscription changes', () => {
    const cached = trie();
    cacheTopicMatches(cached);
    cached.add('devices/+/telemetry', 1);
    cached.add('devices/+/status', 3);
    const first = cached.match('devices/a/telemetry');
    expect(cached.match('devices/a/telemetry')).toBe(first);
    cached.add('devices/a/#', 2);
    expect(cached.match('devices/a/telemetry')).not.toBe(first);
    expect([...cached.match('devices/a/telemetry')].sort()).toEqual([1, 2]);
  });

  it('forgets only its own topic when an exact topic is subscribed, as each device does as it connects', () => {
    const cached = trie();
    cacheTopicMatches(cached);
    cached.add('devices/+/telemetry', 1);
    const other = cached.match('devices/a/telemetry');
    expect(cached.match('devices/b/commands')).toEqual([]);
    cached.add('devices/b/commands', 2);
    expect(cached.match('devices/b/commands')).toEqual([2]);
    expect(cached.match('devices/a/telemetry')).toBe(other);
    cached.remove('devices/b/commands', 2);
    expect(cached.match('devices/b/commands')).toEqual([]);
    expect(cached.match('devices/a/telemetry')).toBe(other);
  });

  it('keeps the bus delivering to a subscriber added or removed after a topic was matched', async () => {
    const queue = createMessageQueue(10);
    const seen: string[] = [];
    const emit = (topic: string) => new Promise<void>((resolve) => queue.emit({ topic }, () => resolve()));
    const listener = (message: { topic: string }, done: () => void) => {
      seen.push(message.topic);
      done();
    };
    await emit('devices/a/telemetry');
    await new Promise<void>((resolve) => queue.on('devices/+/telemetry', listener, resolve));
    await emit('devices/a/telemetry');
    await new Promise<void>((resolve) => queue.removeListener('devices/+/telemetry', listener, resolve));
    await emit('devices/a/telemetry');
    expect(seen).toEqual(['devices/a/telemetry']);
  });
});
