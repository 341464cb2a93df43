// aedes-persistence ships its memory store and callback adapter as CommonJS files without typed subpaths.
declare module 'aedes-persistence/asyncPersistence.js' {
  import type { Client } from 'aedes';
  import type { AedesPacket } from 'aedes-packet';
  import type { Readable } from 'node:stream';

  class MemoryPersistence {
    constructor(options?: Record<string, unknown>);
    outgoingEnqueue(sub: { clientId: string }, packet: AedesPacket): Promise<void>;
    outgoingEnqueueCombi(subs: { clientId: string }[], packet: AedesPacket): Promise<void>;
    outgoingUpdate(client: Client, packet: AedesPacket): Promise<void>;
    outgoingClearMessageId(client: Client, packet: AedesPacket): Promise<AedesPacket | undefined>;
    outgoingStream(client: Client): Readable;
  }
  export = MemoryPersistence;
}

declare module 'aedes-persistence/callBackPersistence.js' {
  import type { AedesPersistence } from 'aedes-persistence';

  export class CallBackPersistence {
    constructor(factory: (options: Record<string, unknown>) => unknown, options?: Record<string, unknown>);
  }
  export type { AedesPersistence };
}

declare module 'aedes-persistence/abstract.js' {
  import type { test } from 'node:test';

  function abstractPersistenceTests(options: { test: typeof test; persistence: (options?: Record<string, unknown>) => unknown; testAsync?: boolean }): void;
  export = abstractPersistenceTests;
}
