/**
 * The broker's message bus: mqemitter with a bounded number of messages in flight (aedes' `concurrency`), but
 * drained without recursion. mqemitter starts the next queued message from inside the completion of the
 * previous one; when deliveries complete synchronously (no subscriber, or a socket with room), a backlog of
 * thousands — a fleet of 10,000 dropping at once publishes 10,000 offline statuses — drains as one ever-deeper
 * call chain and the process dies with "Maximum call stack size exceeded". Past a modest depth the next message
 * goes back to the head of the queue and the drain resumes on a fresh stack, holding the slot it freed so that
 * nothing overtakes the backlog.
 */
import mqemitter from 'mqemitter';

/** Nested starts allowed on one stack: deep enough to stay fast, far from V8's limit. */
const MAX_SYNC_DEPTH = 64;

type Message = mqemitter.Message;
type Callback = (error?: Error) => void;

/** The parts of mqemitter's instance that its queue drain goes through (not in its published types). */
interface Internals {
  current: number;
  _messageQueue: Message[];
  _messageCallbacks: Callback[];
  _do(message: Message, callback: Callback): unknown;
}

export function createMessageQueue(concurrency: number): mqemitter.MQEmitter {
  // matchEmptyLevels as aedes sets it for its own bus [MQTT-4.7.1-3].
  const queue = mqemitter({ concurrency, matchEmptyLevels: true });
  const internals = queue as unknown as Internals;
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
