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
  const checkIndex = (index: number, what: string): void => {
    if (index >= nStrings) {
      throw new ProfileError(`${what} refers to string index ${index} but the string table has ${nStrings} entries`);
    }
  };
  const checkAll = (indexes: Int32Array, what: (i: number) => string): void => {
    for (let i = 0; i < indexes.length; i++) if (indexes[i] >= nStrings) checkIndex(indexes[i], what(i));
  };

  checkAll(p.sampleTypes, (i) => `sample_type[${i >> 1}].${i & 1 ? 'unit' : 'type'}`);
  checkAll(p.periodType, (i) => `period_type.${i ? 'unit' : 'type'}`);
  checkAll(p.comments, (i) => `comment[${i}]`);
  checkIndex(p.dropFrames, 'drop_frames');
  checkIndex(p.keepFrames, 'keep_frames');
  checkIndex(p.defaultSampleType, 'default_sample_type');
  checkIndex(p.docUrl, 'doc_url');

  const fns = p.functions;
  for (let i = 0; i < fns.count; i++) {
    if (fns.id[i] === 0) throw new ProfileError(`function ${i} has id 0, which is reserved`);
  }
  checkAll(fns.name, (i) => `function id ${fns.id[i]} name`);
  checkAll(fns.systemName, (i) => `function id ${fns.id[i]} system_name`);
  checkAll(fns.filename, (i) => `function id ${fns.id[i]} filename`);

  const maps = p.mappings;
  for (let i = 0; i < maps.count; i++) {
    if (maps.id[i] === 0) throw new ProfileError(`mapping ${i} has id 0, which is reserved`);
  }
  checkAll(maps.filename, (i) => `mapping id ${maps.id[i]} filename`);
  checkAll(maps.buildId, (i) => `mapping id ${maps.id[i]} build_id`);

  const locs = p.locations;
  for (let i = 0; i < locs.count; i++) {
    if (locs.id[i] === 0) throw new ProfileError(`location ${i} has id 0, which is reserved`);
  }

  const s = p.samples;
  checkAll(s.labelKey, (i) => `sample label ${i} key`);
  checkAll(s.labelStr, (i) => `sample label ${i} str`);
  checkAll(s.labelNumUnit, (i) => `sample label ${i} num_unit`);
  if (s.values.length !== s.count * (p.sampleTypes.length >> 1)) {
    throw new ProfileError(`samples hold ${s.values.length} values, expected ${s.count * (p.sampleTypes.length >> 1)}`);
  }
}
