import { ProfileError } from './errors.js';
import type { Profile } from './profile.js';

/**
 * Checks the invariants that decode cannot check field by field: the string table starts
 * with "", every string index is inside it, ids are non-zero, every sample has one value per
 * sample type. References between tables are resolved (and checked) by decode itself.
 * Throws ProfileError naming the first violation.
 */
export function validateProfile(p: Profile): void {
  const nStrings = p.strings.length;
  if (nStrings === 0 || p.strings[0] !== '') {
    throw new ProfileError(
      nStrings === 0 ? 'string_table is empty: it must start with ""' : `string_table[0] must be "" but is ${JSON.stringify(p.strings[0])}`,
    );
  }
  const badIndex = (index: number, what: string): never => {
    throw new ProfileError(`${what} refers to string index ${index} but the string table has ${nStrings} entries`);
  };
  // The loops are plain (no callback per element) and the messages are built only on failure:
  // this runs once per decoded profile, mostly before V8 has optimized anything.
  const check = (indexes: Int32Array, what: (i: number) => string): void => {
    const i = firstOutOfRange(indexes, nStrings);
    if (i >= 0) badIndex(indexes[i], what(i));
  };
  const nonZero = (ids: Float64Array, what: string): void => {
    const i = firstZero(ids);
    if (i >= 0) throw new ProfileError(`${what} ${i} has id 0, which is reserved`);
  };
  check(p.sampleTypes, (i) => `sample_type[${i >> 1}].${i & 1 ? 'unit' : 'type'}`);
  check(p.periodType, (i) => `period_type.${i ? 'unit' : 'type'}`);
  check(p.comments, (i) => `comment[${i}]`);
  if (p.dropFrames >= nStrings) badIndex(p.dropFrames, 'drop_frames');
  if (p.keepFrames >= nStrings) badIndex(p.keepFrames, 'keep_frames');
  if (p.defaultSampleType >= nStrings) badIndex(p.defaultSampleType, 'default_sample_type');
  if (p.docUrl >= nStrings) badIndex(p.docUrl, 'doc_url');

  const fns = p.functions;
  nonZero(fns.id, 'function');
  check(fns.name, (i) => `function id ${fns.id[i]} name`);
  check(fns.systemName, (i) => `function id ${fns.id[i]} system_name`);
  check(fns.filename, (i) => `function id ${fns.id[i]} filename`);

  const maps = p.mappings;
  nonZero(maps.id, 'mapping');
  check(maps.filename, (i) => `mapping id ${maps.id[i]} filename`);
  check(maps.buildId, (i) => `mapping id ${maps.id[i]} build_id`);

  nonZero(p.locations.id, 'location');

  const s = p.samples;
  check(s.labelKey, (i) => `sample label ${i} key`);
  check(s.labelStr, (i) => `sample label ${i} str`);
  check(s.labelNumUnit, (i) => `sample label ${i} num_unit`);
  if (s.values.length !== s.count * (p.sampleTypes.length >> 1)) {
    throw new ProfileError(`samples hold ${s.values.length} values, expected ${s.count * (p.sampleTypes.length >> 1)}`);
  }
}

/** Position of the first string index at or beyond nStrings, or -1. */
function firstOutOfRange(indexes: Int32Array, nStrings: number): number {
  for (let i = 0; i < indexes.length; i++) if (indexes[i] >= nStrings) return i;
  return -1;
}

/** Position of the first id 0, or -1. */
function firstZero(ids: Float64Array): number {
  for (let i = 0; i < ids.length; i++) if (ids[i] === 0) return i;
  return -1;
}
