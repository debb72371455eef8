import { ProfileError } from './errors.js';

/**
 * K: the decoded tables of a profile may take at most this many bytes per byte of the
 * decompressed profile. Real profiles take 2.7 to 3.7, counting every buffer decode allocates:
 * 3.3-3.7 for the 25-60 KB CPU profiles of e2e/testdata (their fixed minimums, ~16 KB, are
 * most of the difference), 2.7-2.8 for the bench's 1-2 MB cpuburn profiles with labels
 * (bench/merge), 5.2 for the 3 KB heap.pprof, which the constant covers. Empty or minimal
 * records, what an amplification attack is made of, take 7 to 25.
 */
export const DECODED_BYTES_PER_INPUT_BYTE = 6;

/** Room every decode has on top of K x its size, so tiny profiles are never refused. */
export const DECODE_BUDGET_SLACK_BYTES = 1024 * 1024;

const MB = 1024 * 1024;

/** One table's share of a decode, for the up-front check (DecodeBudget.chargeTables). */
export interface TableCost {
  /** What the bytes are for, as the error names it ("50000000 string_table entries"). */
  what: string;
  bytes: number;
}

/**
 * The memory one decode may allocate: K x the decompressed size + a small constant. The
 * decoder charges every buffer before allocating it (garbage from regrowing included; nothing
 * is ever given back), so a decode that would pass the limit is refused with a ProfileError
 * while it has allocated at most the limit. One budget per decoded input: the encoded merger
 * charges the samples it reads from an input to that input's budget.
 */
export class DecodeBudget {
  /** Decompressed size of the input the budget is for. */
  readonly inputBytes: number;
  /** Bytes that may be charged in all. */
  readonly limitBytes: number;
  private used = 0;

  constructor(inputBytes: number, limitBytes = inputBytes * DECODED_BYTES_PER_INPUT_BYTE + DECODE_BUDGET_SLACK_BYTES) {
    this.inputBytes = inputBytes;
    this.limitBytes = limitBytes;
  }

  /** Bytes charged so far. */
  get usedBytes(): number {
    return this.used;
  }

  /**
   * A budget with the same limit and what this one has charged so far, charged apart from it: a
   * reader of the samples charges one per read, so reading one input's samples twice (merging a
   * profile with itself) costs each read, not their sum.
   */
  fork(): DecodeBudget {
    const copy = new DecodeBudget(this.inputBytes, this.limitBytes);
    copy.used = this.used;
    return copy;
  }

  /** Charges `bytes` about to be allocated for `what`; throws ProfileError, charging nothing, when they do not fit. */
  charge(bytes: number, what: string): void {
    const total = this.used + bytes;
    if (total > this.limitBytes) throw this.refusal(what, total);
    this.used = total;
  }

  /**
   * Charges every table at once, before any of them is allocated; when they do not fit, the
   * error names the largest one, which is where an amplification attack puts its records.
   */
  chargeTables(costs: TableCost[]): void {
    let total = 0;
    let largest = costs[0];
    for (const c of costs) {
      total += c.bytes;
      if (c.bytes > largest.bytes) largest = c;
    }
    if (this.used + total > this.limitBytes) throw this.refusal(largest.what, this.used + total);
    this.used += total;
  }

  private refusal(what: string, total: number): ProfileError {
    return new ProfileError(
      `${what} would need ${mb(total)} MB decoded from ${mb(this.inputBytes)} MB: not a plausible profile (at most ${mb(this.limitBytes)} MB)`,
    );
  }
}

function mb(bytes: number): string {
  const x = bytes / MB;
  return x >= 10 ? x.toFixed(0) : x.toFixed(1);
}
