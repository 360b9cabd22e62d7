/** The overhead findings of the HTTP/2 rows: each beside its HTTP/1.1 row, in one sentence a reader can quote. */
import type { ScenarioResult } from '../../metrics/results.ts';
import type { Finding } from '../../report-model/doc.ts';
import { fmtSig } from '../../report-model/format.ts';
import { requestPerUpdate } from '../../transports/descriptor.ts';
import { transportByName } from '../../transports/index.ts';
import { profileHeaders } from '../../clients/headers.ts';
import type { HeaderProfile } from '../../clients/contract.ts';
import { readOverheadSweep, readResponseHeaders, type OverheadSweepPoint } from './schema.ts';

/** RFC 9110 §5.6.7: an IMF-fixdate is 29 characters, the value the sampled head leaves out. */
const DATE_VALUE_BYTES = 29;

/**
 * An HTTP/1.1 poll's heads as the lab's client sends them and the sampled reply came back: the
 * request line, Host, Connection and the profile's fields; the reply's lines with a real Date.
 */
function http1Heads(profile: HeaderProfile, replyLines: string[]): number {
  const origin = 'http://127.0.0.1:40000';
  const request = ['GET /poll?cursor=1000&client=c0 HTTP/1.1', 'host: 127.0.0.1:40000', 'connection: keep-alive'];
  for (const [k, v] of Object.entries(profileHeaders(profile, 'fetch', origin))) request.push(`${k}: ${v}`);
  const reply = replyLines.map((l) => (/^date:/i.test(l) ? `Date: ${'x'.repeat(DATE_VALUE_BYTES)}` : l));
  return Buffer.byteLength(`${request.join('\r\n')}\r\n\r\n${reply.join('\r\n')}\r\n\r\n`);
}

/** The point a finding quotes: the lowest rate, smallest payload (where headers weigh most). */
function quoted(sweep: OverheadSweepPoint[]): OverheadSweepPoint | undefined {
  return [...sweep].sort((a, b) => a.ratePerClient - b.ratePerClient || a.sizeBytes - b.sizeBytes)[0];
}

/** "DATA 70 B, HEADERS 12 B, …" for a point's frame types, largest first. */
function frameWords(p: OverheadSweepPoint): string | undefined {
  const f = p.h2FrameBytesPerMessage;
  if (!f) return undefined;
  const parts = Object.entries(f)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${fmtSig(v)} B`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

/** One finding per HTTP/2 row whose HTTP/1.1 row ran beside it. */
export function h2Findings(s: ScenarioResult): Finding[] {
  const out: Finding[] = [];
  for (const r of s.results) {
    const d = transportByName(r.transport);
    if (r.state !== 'completed' || d?.httpServer !== 'h2' || !d.variantOf) continue;
    const base = s.results.find((b) => b.transport === d.variantOf && b.state === 'completed');
    const mine = quoted(readOverheadSweep(r.extra) ?? []);
    const theirs =
      base && quoted((readOverheadSweep(base.extra) ?? []).filter((p) => p.sizeBytes === mine?.sizeBytes && p.ratePerClient === mine?.ratePerClient));
    if (!mine || !theirs || !base) continue;
    const what =
      d.traits.delivery === 'poll' ? 'a repeated poll costs' : d.traits.delivery === 'held-request' ? 'a long poll answered costs' : 'a message costs';
    const tls = theirs.plainBytesPerMessage !== undefined;
    const fair = tls ? 'both over TLS' : `${base.transport} in cleartext, so run with --tls to compare like with like`;
    const replyLines = readResponseHeaders(base.extra);
    const profile = s.params['headers'] === 'minimal' ? 'minimal' : 'browser';
    const h1 = replyLines && requestPerUpdate(d.traits) ? http1Heads(profile, replyLines) : undefined;
    const against = h1
      ? `, ${fmtSig((100 * (mine.h2HeadersBytesPerRequest ?? 0)) / h1)} % of the ${fmtSig(h1)} B of an HTTP/1.1 poll's request head and sampled reply head`
      : '';
    const headers =
      mine.h2HeadersBytesPerRequest !== undefined && d.traits.delivery !== 'frames'
        ? `; a request's HEADERS frames, request and response together, take ${fmtSig(mine.h2HeadersBytesPerRequest)} B (HPACK blocks ${fmtSig(mine.h2HeaderBlockBytesPerRequest ?? 0)} B)${against}`
        : '';
    const frames = frameWords(mine);
    out.push({
      level: 'info',
      scenario: s.name,
      text:
        `${s.name}: over HTTP/2 ${what} ${fmtSig(mine.bytesPerMessage)} B instead of ${fmtSig(theirs.bytesPerMessage)} ` +
        `(${r.transport} against ${base.transport}, ${mine.sizeBytes} B at ${mine.ratePerClient} msg/s per client, ${fair})${headers}` +
        `${frames ? `; HTTP/2 frames per message by type: ${frames}` : ''}.`,
    });
  }
  return out;
}
