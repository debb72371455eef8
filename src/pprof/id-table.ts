import type { DecodeBudget } from './budget.js';
import { ProfileError } from './errors.js';

/** A Map entry of IdTable's sparse form, room for regrowing included. */
const SPARSE_ID_BYTES = 80;

/**
 * Maps proto ids to row numbers. Ids are almost always small and dense (1..n), so `dense`
 * answers them by indexing; `row()` also covers sparse ids through a Map. -1 means unknown.
 */
export class IdTable {
  readonly dense: Int32Array;
  private readonly sparse: Map<number, number> | null;

  /** Charges what it allocates to `budget`: 4 bytes per id up to the largest when dense (at most 4n + 1024 ids). */
  constructor(ids: Float64Array, what: string, budget: DecodeBudget) {
    let max = 0;
    for (let i = 0; i < ids.length; i++) if (ids[i] > max) max = ids[i];
    const duplicate = (id: number): never => {
      throw new ProfileError(`duplicate ${what} id ${id}`);
    };
    if (max <= ids.length * 4 + 1024) {
      budget.charge(4 * (max + 1), `${what} ids`);
      this.dense = new Int32Array(max + 1).fill(-1);
      this.sparse = null;
      for (let i = 0; i < ids.length; i++) {
        if (this.dense[ids[i]] !== -1) duplicate(ids[i]);
        this.dense[ids[i]] = i;
      }
    } else {
      budget.charge(SPARSE_ID_BYTES * ids.length, `${ids.length} ${what} ids`);
      this.dense = new Int32Array(0);
      this.sparse = new Map();
      for (let i = 0; i < ids.length; i++) {
        if (this.sparse.has(ids[i])) duplicate(ids[i]);
        this.sparse.set(ids[i], i);
      }
    }
  }

  row(id: number): number {
    if (id < this.dense.length) return this.dense[id];
    return this.sparse?.get(id) ?? -1;
  }
}
