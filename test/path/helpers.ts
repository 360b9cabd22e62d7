/** Helpers of the path tests: a collecting client of a session's transport, at its base URL. */
import type { TestContext } from 'node:test';
import type { TransportClient } from '../../clients/contract.ts';
import type { Session } from '../../runner/session.ts';
import { clientFrom } from '../../transports/load.ts';

/** A client of the session's transport at the URL the session's clients reach, trusting its certificate; it keeps what it receives. */
export async function startCollectorAt(t: TestContext, s: Session): Promise<{ client: TransportClient; received: string[] }> {
  const received: string[] = [];
  const client = (await clientFrom(s.loadClient))({
    baseUrl: s.baseUrl,
    clientId: 'via-test',
    pollIntervalMs: 50,
    ...(s.ca !== undefined && { ca: s.ca }),
    onMessage: (d) => received.push(d),
  });
  await client.start();
  t.after(() => client.stop());
  return { client, received };
}
