/**
 * Remembers what a topic matched in the message bus's Qlobber until a subscription changes. mqemitter asks the trie
 * for every message, and the trie splits the topic and walks it, building a fresh array each time, for a set of
 * subscriptions that changes only when a client (un)subscribes: under a fan-in it was a steady few per cent of the
 * broker's time. The trie's answer for a topic depends on nothing but its subscriptions, so a remembered answer is
 * the one it would give, as long as every change to it goes through add, remove or clear.
 *
 * A change forgets only what it can affect. Every device subscribes to its own command and error topics each time
 * it connects: exact topics, which match that topic alone. Had each (re)connection forgotten every topic, a city
 * of devices on flaky links would have kept the memory nearly empty; only a wildcard filter (ingest's, the api's,
 * at start) forgets everything.
 */

/** The parts of Qlobber that mqemitter uses. */
export interface TopicMatcher<T> {
  add(topic: string, value: T): unknown;
  remove(topic: string, value?: T): unknown;
  clear(): unknown;
  match(topic: string, context?: unknown): T[];
}

/**
 * Topics remembered at once; past it the memory starts over. A broker process holds at most 20,000 connections (its
 * file descriptors), a device publishes on a few topics of its own, and an entry is a hundred-odd bytes.
 */
const MATCHED_TOPICS = 100_000;

const isWildcardFilter = (topic: string) => topic.includes('+') || topic.includes('#');

/**
 * Makes `matcher` remember its matches per topic. The arrays it answers with are shared, as the trie's own already
 * may be (with one subscription matching, Qlobber answers with the list it keeps): mqemitter only reads them.
 */
export function cacheTopicMatches<T>(matcher: TopicMatcher<T>): void {
  const matched = new Map<string, T[]>();
  const add = matcher.add.bind(matcher);
  const remove = matcher.remove.bind(matcher);
  const clear = matcher.clear.bind(matcher);
  const match = matcher.match.bind(matcher);
  const forget = (filter: string) => (isWildcardFilter(filter) ? matched.clear() : matched.delete(filter));
  matcher.add = (topic, value) => {
    forget(topic);
    return add(topic, value);
  };
  matcher.remove = (topic, value) => {
    forget(topic);
    return remove(topic, value);
  };
  matcher.clear = () => {
    matched.clear();
    return clear();
  };
  matcher.match = (topic, context) => {
    // A context changes what the trie's hooks answer: such a match is not the topic's alone.
    if (context !== undefined) return match(topic, context);
    let values = matched.get(topic);
    if (values === undefined) {
      values = match(topic);
      if (matched.size >= MATCHED_TOPICS) matched.clear();
      matched.set(topic, values);
    }
    return values;
  };
}
