/**
 * Short authentication string: six digits read aloud ("482 915"), from 4
 * bytes of the key schedule, which is bound to the whole transcript (both
 * identities, every ephemeral key). If the two screens show the same digits,
 * nobody swapped keys: a man in the middle would have to make two different
 * transcripts agree on 20 bits by chance, with one try per call.
 * Digits read the same in English and French.
 */
export const SAS_DIGITS = 6;

export function sasFromBytes(sas: Uint8Array): string {
  if (sas.length < 4) throw new RangeError('SAS needs 4 bytes');
  const n = ((sas[0]! << 24) | (sas[1]! << 16) | (sas[2]! << 8) | sas[3]!) >>> 0;
  const digits = String(n % 10 ** SAS_DIGITS).padStart(SAS_DIGITS, '0');
  return `${digits.slice(0, 3)} ${digits.slice(3)}`;
}
