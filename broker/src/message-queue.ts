/**
 * The broker's message bus: mqemitter with a bounded number of messages in flight (aedes' `concurrency`), but
 * drained without recursion. mqemitter starts the next queued message from inside the completion of the
 * previous one; when deliveries complete synchronously (no subscriber, or a socket with room), a backlog of
 * thousands — a fleet of 10,000 dropping at once publishes 10,000 offline statuses — drains as one ever-deeper
 * call chain and the process dies with "Maximum call stack size exceeded". Past a modest depth the next message
 * goes back to the head of the queue and the drain resumes on a fresh stack, holding the slot it freed so that
 * nothing overtakes the backlog. The queue itself is a ring buffer: mqemitter's arrays cost a copy of the whole
 * backlog on every shift once they grow past what V8 trims in place, which made a broker behind on its deliveries
 * spend most of its time moving memory and fall further behind. What a topic matches is remembered
 * (topic-match-cache.ts).
 */
import mqemitter from 'mqemitter';
import { cacheTopicMatches, type TopicMatcher } from './topic-match-cache.js';

/** Nested starts allowed on one stack: deep enough to stay fast, far from V8's limit. */
const MAX_SYNC_DEPTH = 64;

type Message = mqemitter.Message;
type Callback = (error?: Error) => void;

/** The parts of mqemitter's instance that its queue drain goes through (not in its published types). */
interface Internals {
  current: number;
  _matcher: TopicMatcher<unknown>;
  _messageQueue: Deque<Message>;
  _messageCallbacks: Deque<Callback>;
  _do(message: Message, callback: Callback): unknown;
}

export function createMessageQueue(concurrency: number): mqemitter.MQEmitter {
  // matchEmptyLevels as aedes sets it for its own bus [MQTT-4.7.1-3].
  const queue = mqemitter({ concurrency, matchEmptyLevels: true });
  const internals = queue as unknown as Internals;
  internals._messageQueue = new Deque<Message>();
  internals._messageCallbacks = new Deque<Callback>();
  cacheTopicMatches(internals._matcher);
  const start = internals._do.bind(queue);
  let depth = 0;
  internals._do = (message, callback) => {
    if (depth >= MAX_SYNC_DEPTH) {
      internals._messageQueue.unshift(message);
      internals._messageCallbacks.unshift(callback);
      internals.current++;
      setImmediate(resume);
      return queue;
    }
    depth++;
    try {
      return start(message, callback);
    } finally {
      depth--;
    }
  };
  /** Gives back the held slot to whatever heads the queue now (other completions may have drained it meanwhile). */
  const resume = () => {
    internals.current--;
    const message = internals._messageQueue.shift();
    const callback = internals._messageCallbacks.shift();
    if (message && callback) internals._do(message, callback);
  };
  return queue;
}

/** How many messages wait for a delivery slot. */
export function backlogOf(queue: mqemitter.MQEmitter): number {
  return (queue as unknown as Internals)._messageQueue.length;
}

/** The array operations mqemitter uses on its queues (push, shift, length) and unshift, each O(1) amortised. */
export class Deque<T> {
  private items: (T | undefined)[] = new Array<T | undefined>(16);
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(item: T): number {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) % this.items.length] = item;
    return ++this.count;
  }

  unshift(item: T): number {
    if (this.count === this.items.length) this.grow();
    this.head = (this.head - 1 + this.items.length) % this.items.length;
    this.items[this.head] = item;
    return ++this.count;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.count--;
    return item;
  }

  private grow(): void {
    const larger = new Array<T | undefined>(this.items.length * 2);
    for (let i = 0; i < this.count; i++) larger[i] = this.items[(this.head + i) % this.items.length];
    this.items = larger;
    this.head = 0;
  }
}
