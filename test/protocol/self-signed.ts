/**
 * The certificate a test's TLS server runs on: the lab's own throwaway one (`throwawayCertificate`,
 * made by the `selfsigned` library for 127.0.0.1 and localhost), made once per test process.
 */
import { throwawayCertificate } from '../../path/route.ts';

let made: Promise<{ key: string; cert: string }> | undefined;

/** A key and a certificate, both PEM, for a TLS server on 127.0.0.1; the same pair for every test of the process. */
export function selfSignedCertificate(): Promise<{ key: string; cert: string }> {
  made ??= throwawayCertificate();
  return made;
}
