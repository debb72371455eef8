import type { ProfileRecord } from '../store/types.js';
import type { CallTreeDictionary } from './call-tree-dictionary.js';
import type { MergeInput } from './prepared-merge.js';
import type { PreparedProfiles } from './prepared-profiles.js';
import { type AccumulatedView, isProfileAttachment, preferredSampleType, type SampleTypeOption } from './profile-views.js';

/** One side of a view read through prepared forms: what accumulateProfiles reports, and the profiles to merge. */
export interface PreparedSide extends AccumulatedView {
  inputs: MergeInput[];
}

/**
 * Reads attachment `attachment`, value column `type`, of every record as prepared profiles, with
 * exactly accumulateProfiles's rules: in record order, a profile that cannot be read, lacks the
 * type or has it in another unit than the ones before it is skipped with the reason.
 */
export async function preparedSide(
  profiles: PreparedProfiles,
  dictionary: CallTreeDictionary,
  records: readonly ProfileRecord[],
  attachment: string,
  type: string,
): Promise<PreparedSide> {
  const read = await profiles.readAll(records, attachment, dictionary);
  const side: PreparedSide = { used: [], skipped: [], unit: '', seconds: 0, mainModule: null, inputs: [] };
  read.forEach((p, i) => {
    const record = records[i];
    if ('reason' in p) {
      side.skipped.push({ id: record.id, reason: p.reason });
      return;
    }
    const column = p.sampleTypes.findIndex((t) => t.type === type);
    if (column < 0) {
      side.skipped.push({ id: record.id, reason: `attachment ${attachment} has no sample type ${type}` });
      return;
    }
    const unit = p.sampleTypes[column].unit;
    if (side.unit !== '' && unit !== side.unit) {
      side.skipped.push({ id: record.id, reason: `sample type ${type} is in ${unit}, the others in ${side.unit}` });
      return;
    }
    side.unit = unit;
    side.inputs.push({ profile: p.mapped, column });
    side.used.push(record.id);
    side.seconds += record.durationNanos / 1e9;
    side.mainModule ??= p.mainModule;
  });
  return side;
}

/** The sample types of `record`'s profile attachments and the default one, as sampleTypeOptions lists them, from prepared profiles. */
export async function preparedSampleTypeOptions(
  profiles: PreparedProfiles,
  dictionary: CallTreeDictionary,
  record: ProfileRecord,
): Promise<{ options: SampleTypeOption[]; preferred: string | null }> {
  const options: SampleTypeOption[] = [];
  for (const a of record.attachments) {
    if (!isProfileAttachment(a.name)) continue;
    const p = await profiles.read(record, a.name, dictionary);
    if ('reason' in p) continue;
    for (const t of p.sampleTypes) options.push({ key: `${a.name}:${t.type}`, attachment: a.name, type: t.type, unit: t.unit });
  }
  return { options, preferred: preferredSampleType(options) };
}
