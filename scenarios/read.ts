/**
 * Reading a scenario's own shapes back out of a results file. A results file
 * is input from outside, so a scenario's `extra` and `summary` are parsed with
 * its schema and anything that does not parse is skipped, never fatal: a list
 * keeps the elements that parse, an optional field that does not parse is
 * dropped, and a value missing a required field reads as absent.
 */
import { z } from 'zod';

/** A list that keeps the elements that parse with `item` and drops the rest. */
export function listOf<T extends z.ZodType>(item: T) {
  return z.array(z.unknown()).transform((xs) =>
    xs.flatMap((x) => {
      const r = item.safeParse(x);
      return r.success ? [r.data as z.output<T>] : [];
    }),
  );
}

/** An optional field that reads as absent when it does not parse. */
export function opt<T extends z.ZodType>(schema: T) {
  return schema.optional().catch(undefined);
}

/** A record of finite numbers by name, keeping the entries that are numbers. */
export function numbersByName<K extends string>() {
  return z.record(z.string(), z.unknown()).transform((o) => {
    const out: Partial<Record<K, number>> = {};
    for (const [k, v] of Object.entries(o)) if (typeof v === 'number' && Number.isFinite(v)) out[k as K] = v;
    return out;
  });
}

/** `value` parsed with `schema`, or undefined when it does not parse. */
export function readWith<T extends z.ZodType>(schema: T, value: unknown): z.output<T> | undefined {
  const r = schema.safeParse(value);
  return r.success ? r.data : undefined;
}
