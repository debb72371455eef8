/** Fewest profiles per side an interval is computed from: two give a t factor of 12.7, three of 4.3. */
export const MIN_PROFILES = 3;
/** Fewest requests per side (or per endpoint) CPU per request is computed from. */
export const MIN_REQUESTS = 20;
