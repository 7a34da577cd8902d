/**
 * Typed errors of the bench's load generator (bench/loadgen/). Each has a
 * stable code and a sentence the person running the bench can act on.
 */
export type LoadgenErrorCode =
  | 'ERR_LOADGEN_NO_COMPILER'
  | 'ERR_LOADGEN_BUILD'
  | 'ERR_LOADGEN_NO_PORT'
  | 'ERR_LOADGEN_SETUP'
  | 'ERR_LOADGEN_TOO_LONG'
  | 'ERR_LOADGEN_EXIT';

export class LoadgenError extends Error {
  override readonly name = 'LoadgenError';
  constructor(
    readonly code: LoadgenErrorCode,
    message: string,
  ) {
    super(message);
  }
}
