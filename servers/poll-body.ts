/** The JSON body polling and long polling answer with. */
import type { SinceResult } from './hub.ts';

/** `{ next, gap, messages: [{ id, data }] }` — compact, one object per message; `more` when cut at the batch limit, `reset` after a restart. */
export function pollBody(r: SinceResult): string {
  let out = `{"next":${r.next},"gap":${r.gap ? JSON.stringify(r.gap) : 'null'},${r.more ? '"more":true,' : ''}${r.reset ? '"reset":true,' : ''}"messages":[`;
  for (let i = 0; i < r.messages.length; i++) {
    const m = r.messages[i]!;
    out += `${i ? ',' : ''}{"id":${m.seq},"data":${JSON.stringify(m.data)}}`;
  }
  return out + ']}';
}
