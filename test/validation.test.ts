import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { compileValidator } from '../src/protocol/validation.js';

/** The shared validator of HTTP bodies, query strings and socket payloads (pure logic). */
describe('compileValidator', () => {
  const Body = Type.Object({ event: Type.String(), rooms: Type.Optional(Type.Array(Type.String({ minLength: 1 }))) }, { additionalProperties: false });
  const refusal = (result: ReturnType<ReturnType<typeof compileValidator>['validate']>) => ('error' in result ? result.error.toBody() : result);

  it('names the first field that does not fit, as path, index and missing or unknown property', () => {
    const { validate } = compileValidator(Body);
    expect(refusal(validate({ event: 'e', rooms: ['a', ''] }))).toEqual({ code: 'INVALID_BODY', message: 'rooms[1] must NOT have fewer than 1 characters', details: { field: 'rooms[1]' } });
    expect(refusal(validate({}))).toEqual({ code: 'INVALID_BODY', message: 'event is required', details: { field: 'event' } });
    expect(refusal(validate({ event: 'e', room: 'a' }))).toEqual({ code: 'INVALID_BODY', message: 'room is not an accepted field', details: { field: 'room' } });
    expect(refusal(validate('e'))).toEqual({ code: 'INVALID_BODY', message: 'body must be object', details: { field: 'body' } });
    expect(validate({ event: 'e' })).toEqual({ value: { event: 'e' } });
  });

  it('prefixes fields with the name given (a batch item, a payload sent as its one field alone)', () => {
    const { check } = compileValidator(Body);
    expect(() => check({ event: 1 }, '[3]')).toThrow(expect.objectContaining({ code: 'INVALID_BODY', details: { field: '[3].event' } }));
    const { validate } = compileValidator(Type.Array(Type.String()), 'payload');
    expect(refusal(validate(['a', 1], 'rooms'))).toMatchObject({ details: { field: 'rooms[1]' } });
    expect(refusal(validate('a'))).toMatchObject({ message: 'payload must be array', details: { field: 'payload' } });
  });

  it('explains a union by the branch the value\'s type fits', () => {
    const { validate } = compileValidator(Type.Union([Type.String({ minLength: 1 }), Type.Object({ room: Type.String({ minLength: 1 }) })]), 'payload');
    expect(refusal(validate({ nope: 1 }))).toMatchObject({ message: 'room is required', details: { field: 'room' } });
    expect(refusal(validate({ room: '' }))).toMatchObject({ details: { field: 'room' } });
    expect(refusal(validate('', 'room'))).toMatchObject({ message: 'room must NOT have fewer than 1 characters' });
    expect(refusal(validate(5, 'room'))).toMatchObject({ message: 'room must be string' });
  });

  it('coerces query strings and params from text and refuses them as INVALID_QUERY', () => {
    const { validate } = compileValidator(Type.Object({ limit: Type.Integer({ minimum: 1 }) }), 'query');
    expect(validate({ limit: '5' })).toEqual({ value: { limit: 5 } });
    expect(refusal(validate({ limit: '0' }))).toEqual({ code: 'INVALID_QUERY', message: 'limit must be >= 1', details: { field: 'limit' } });
  });
});
