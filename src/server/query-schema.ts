import type { FastifySchemaValidationError } from 'fastify';
import { HttpError } from './http-error.js';
import { integerParam } from './integer-param.js';

/** A JSON schema for one query-string parameter. */
export type ParamSchema = Readonly<Record<string, unknown>>;

/** A query string of named, optional parameters; unknown parameters are ignored, as they always were. */
export function querySchema(properties: Readonly<Record<string, ParamSchema>>): { type: 'object'; properties: typeof properties } {
  return { type: 'object', properties };
}

/** A free-text parameter (a search query, an id, a time read by parseWindow). */
export const TEXT: ParamSchema = { type: 'string' };

/**
 * An integer parameter from `minimum` to `maximum`, `fallback` when absent; the route then sees a
 * number. Only plain decimal digits are accepted: `1e3`, `0x10`, ` 5`, `5.0`, `+5` and the empty
 * string are refused with 400 naming the parameter and the range, although JavaScript's Number()
 * would read them.
 */
export function integerSchema(minimum: number, maximum: number, fallback: number): ParamSchema {
  return { type: 'string', default: String(fallback), decimalInteger: { minimum, maximum } };
}

/** A parameter that must be one of `values`. */
export function oneOf(values: readonly string[]): ParamSchema {
  return { type: 'string', enum: values };
}

interface DecimalRange {
  minimum: number;
  maximum: number;
}

/** Where Ajv's keyword function finds the value it checks (Ajv's DataValidationCxt, as far as used). */
interface KeywordContext {
  parentData: Record<string | number, unknown>;
  parentDataProperty: string | number;
}

/** A function keyword as Ajv takes it (Ajv's FuncKeywordDefinition, as far as used). */
interface FunctionKeyword {
  keyword: string;
  type: 'string';
  schemaType: 'object';
  modifying: true;
  errors: true;
  validate: ((schema: DecimalRange, data: string, parentSchema?: unknown, ctx?: KeywordContext) => boolean) & {
    errors?: Array<{ keyword: string; params: Record<string, never>; message: string }>;
  };
}

/** What registering a keyword needs of Ajv (the instance fastify's ajv-compiler builds). */
interface KeywordHost {
  addKeyword(definition: FunctionKeyword): unknown;
}

/**
 * Adds the `decimalInteger` keyword to fastify's Ajv: checks a string parameter is decimal digits
 * within the range (the rule of integer-param.ts) and replaces it with the number, so routes read numbers. Passed as
 * `ajv.plugins` when the app is built.
 */
export function decimalIntegerKeyword<A extends KeywordHost>(ajv: A): A {
  const validate: FunctionKeyword['validate'] = (range, data, _schema, ctx) => {
    if (ctx === undefined) return false;
    const name = String(ctx.parentDataProperty);
    try {
      ctx.parentData[name] = integerParam({ [name]: data }, name, { min: range.minimum, max: range.maximum, fallback: range.minimum });
      return true;
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      validate.errors = [{ keyword: 'decimalInteger', params: {}, message: err.message }];
      return false;
    }
  };
  ajv.addKeyword({ keyword: 'decimalInteger', type: 'string', schemaType: 'object', modifying: true, errors: true, validate });
  return ajv;
}

/** Fastify's Ajv options: no type coercion (a body's `1` is not the string "1"), errors with the data they refused. */
export const AJV_OPTIONS = { customOptions: { coerceTypes: false, verbose: true }, plugins: [decimalIntegerKeyword] };

/** `queries/0/limit` as a reader writes it: `queries[0].limit`. */
function pathOf(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
}

/** What is wrong with one value, in the form every refusal of a parameter takes: `"name" must be ...`. */
export function describeSchemaError(error: FastifySchemaValidationError & { data?: unknown }): string {
  const missing = error.params.missingProperty;
  const name = typeof missing === 'string' ? pathOf(`${error.instancePath}/${missing}`) : pathOf(error.instancePath);
  if (error.keyword === 'decimalInteger' && error.message !== undefined) return error.message;
  if (error.keyword === 'enum') {
    return `"${name}" must be one of ${(error.params.allowedValues as string[]).join(', ')}, got ${JSON.stringify(error.data)}`;
  }
  return `"${name || 'the body'}" ${error.message ?? 'is not valid'}`;
}

/**
 * The app's schemaErrorFormatter: a refused query parameter answers 400 bad_parameter naming it
 * (Ajv stops at the first error). Routes with a body set their own formatter with their prefix.
 */
export function queryErrorFormatter(errors: FastifySchemaValidationError[]): Error {
  return new HttpError(400, 'bad_parameter', describeSchemaError(errors[0]));
}
