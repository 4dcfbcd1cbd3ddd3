import { hash } from 'node:crypto';

/** SHA-256 of a text, in hex: what the store keeps of API keys, session tokens and invite tokens. */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}
