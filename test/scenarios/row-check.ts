/**
 * A row checked against what results.json promises of it: the results schema parses it, and
 * its wire block says one thing once (the per-message figures follow from the byte counts).
 */
import assert from 'node:assert/strict';
import { ResultsSchema, type TransportResult } from '../../metrics/results.ts';

/** The row's schema, as the results file's schema holds it. */
const RowSchema = ResultsSchema.shape.scenarios.element.shape.results.element;

/**
 * Fails unless `row` parses as a results row and, when completed with a wire block, that block's
 * per-message figures are its byte counts over `delivered` (the row's own count by default):
 * no figure sits beside zeroed counts.
 */
export function assertRowAgrees(row: TransportResult, delivered = row.messages?.delivered): void {
  const parsed = RowSchema.safeParse(row);
  assert.ok(parsed.success, `${row.transport}: ${parsed.error?.message}`);
  const w = row.wire;
  if (row.state !== 'completed' || !w) return;
  const total = w.bytesUp + w.bytesDown;
  if ((w.bytesPerMessage ?? 0) > 0 || w.overheadBytesPerMessage > 0)
    assert.ok(total > 0, `${row.transport}: per-message bytes beside zeroed counts ${JSON.stringify(w)}`);
  if (delivered === undefined || delivered === 0) {
    // Counters alone (a row that carried no messages): no per-message figure to agree with them.
    assert.ok(!w.bytesPerMessage && !w.overheadBytesPerMessage, `${row.transport}: per-message bytes with no delivered count ${JSON.stringify(w)}`);
    return;
  }
  // Rounded to two decimals where written, and byte counts to whole bytes: a byte's worth of slack.
  const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1, `${row.transport}: ${what} ${a} against ${b} from the counts`);
  if (w.bytesPerMessage !== undefined) near(w.bytesPerMessage, total / delivered, 'bytesPerMessage');
  near(w.overheadBytesPerMessage, (total - w.payloadBytes) / delivered, 'overheadBytesPerMessage');
}
