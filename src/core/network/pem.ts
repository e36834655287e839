/**
 * PEM certificates: the `CERTIFICATE` blocks of a CA bundle (anything around them, comments, keys or garbage, left
 * out), each checked to parse as X.509, written in one canonical form so that the same certificate from two files is
 * one; and which of them every image trusts already (Node's bundled Mozilla roots, the roots of the ca-certificates
 * package in the images).
 */
import { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';

const BLOCK = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----/g;

/** One certificate: its base64 DER (the identity used to deduplicate) and its canonical PEM. */
export interface Certificate {
  der: string;
  pem: string;
  /** The end of its validity (ms since the epoch). */
  notAfter: number;
}

function pemOf(der: string): string {
  const lines = der.match(/.{1,64}/g) ?? [];
  return ['-----BEGIN CERTIFICATE-----', ...lines, '-----END CERTIFICATE-----'].join('\n');
}

/** The certificates of a PEM text, in order, without duplicates; `invalid` counts blocks that are not X.509. */
export function pemCertificates(text: string): { certificates: Certificate[]; invalid: number } {
  const seen = new Set<string>();
  const certificates: Certificate[] = [];
  let invalid = 0;
  for (const m of text.matchAll(BLOCK)) {
    const der = m[1]!.replace(/\s+/g, '');
    if (seen.has(der)) continue;
    seen.add(der);
    const pem = pemOf(der);
    try {
      certificates.push({ der, pem, notAfter: Date.parse(new X509Certificate(pem).validTo) });
    } catch {
      invalid++;
    }
  }
  return { certificates, invalid };
}

let publicRoots: { list: Certificate[]; ders: Set<string> } | undefined;

function roots(): { list: Certificate[]; ders: Set<string> } {
  if (!publicRoots) {
    const list = pemCertificates(tls.rootCertificates.join('\n')).certificates;
    publicRoots = { list, ders: new Set(list.map((c) => c.der)) };
  }
  return publicRoots;
}

/** Whether a certificate is one of the public roots (Mozilla's, as Node bundles them) that images trust already. */
export function isPublicRoot(cert: Certificate): boolean {
  return roots().ders.has(cert.der);
}

/** The public roots as canonical PEM certificates (a container's bundle starts from them). */
export function publicRootCertificates(): Certificate[] {
  return roots().list;
}
