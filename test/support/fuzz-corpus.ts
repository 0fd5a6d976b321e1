import fc from 'fast-check';

/**
 * The hostile-input corpus: random and mutated Engine.IO v4 / Socket.IO v5 packets, generated with fast-check,
 * plus the crash packets of known parser advisories. Shared by test/hostile-input.test.ts and `npm run fuzz`
 * (test/fuzz.ts). No vitest in here.
 */

/** One WebSocket frame or one packet of a long-polling payload. */
export type Frame =
  | { readonly kind: 'text'; readonly data: string }
  /** A binary frame (over long-polling: a `b<base64>` packet). */
  | { readonly kind: 'binary'; readonly data: Buffer }
  /** Raw bytes sent as a text frame or a polling body: invalid UTF-8 among them. */
  | { readonly kind: 'raw-text'; readonly data: Buffer };

const text = (data: string): Frame => ({ kind: 'text', data });
const binary = (data: Buffer): Frame => ({ kind: 'binary', data });

/** Event names the gateway handles, and some it must refuse, so the handlers see hostile arguments too. */
const HANDLED_NAMES = [
  'room/join', 'room/leave', 'room/members', 'join', 'leave', 'auth:refresh', 'single-chat/send-message',
  'grantIn', 'history', 'chat:send', '__proto__', 'constructor', 'toString', '',
];
/** With the names the parser refuses (Socket.IO's reserved ones): such a packet closes the connection. */
const EVENT_NAMES = [...HANDLED_NAMES, 'connect', 'disconnect', 'error', 'newListener'];

const sioType = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 6 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('7', '9', 'x', '-', ' ', '') },
);
const namespace = fc.oneof(
  { weight: 6, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: fc.constantFrom('/,', '/admin,', '/shop,', '/shop/completed,', '/,/,', '/\u0000,', '/ü,') },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map((name) => `/${name},`) },
);
const ackId = fc.oneof(
  { weight: 6, arbitrary: fc.constant('') },
  { weight: 3, arbitrary: fc.nat().map(String) },
  { weight: 1, arbitrary: fc.constantFrom('-1', '1e9', '0x10', '9007199254740993', '9'.repeat(400), 'NaN') },
);
/** Deep nesting, as an attacker writes it: well-formed, or cut off (unbalanced). */
function nested(balanced: fc.Arbitrary<boolean>): fc.Arbitrary<string> {
  return fc.tuple(fc.integer({ min: 100, max: 2000 }), fc.constantFrom('[', '{"a":', '[{"b":'), balanced).map(([depth, open, closed]) => {
    const close = open === '[' ? ']' : open === '{"a":' ? '}' : '}]';
    return closed ? `${open.repeat(depth)}1${close.repeat(depth)}` : open.repeat(depth);
  });
}
const deepJson = nested(fc.boolean());
const placeholder = fc.oneof(
  fc.nat({ max: 12 }),
  fc.constantFrom<unknown>('bar', '__proto__', 'toString', -1, 1.5, null, true, [], { toString: null }, { valueOf: 0 }, 1e300),
).map((num) => ({ _placeholder: true, num }));
const payloadValue = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 2, arbitrary: placeholder },
  { weight: 1, arbitrary: fc.constantFrom<unknown>({ toString: 'foo' }, JSON.parse('{"__proto__":{"a":1}}'), { constructor: { prototype: {} } }) },
);
/** An EVENT/ACK payload: mostly `["name", …args]`, sometimes anything JSON can hold. */
const payload = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.oneof(fc.constantFrom(...EVENT_NAMES), fc.string({ maxLength: 12 })), fc.array(payloadValue, { maxLength: 3 })).map(([name, args]) => JSON.stringify([name, ...args])) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value) ?? 'null') },
  { weight: 1, arbitrary: fc.array(payloadValue, { maxLength: 3 }).map((values) => JSON.stringify([...values, { _placeholder: true, num: 0 }])) },
  { weight: 1, arbitrary: deepJson },
);
/** `5{count}-` / `6{count}-` binary headers, with counts from none to absurd. */
const attachments = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: fc.nat({ max: 20 }).map((count) => `${count}-`) },
  { weight: 1, arbitrary: fc.constantFrom('999999999-', '1e9-', '-1-', 'NaN-', '9007199254740993-', '01-', '1', '-') },
);

/** A Socket.IO packet inside an Engine.IO message (`4…`): type, attachments, namespace, ack id, payload. */
const socketIoPacket = fc
  .tuple(sioType, attachments, namespace, ackId, payload)
  .map(([type, count, nsp, id, data]) => `4${type}${count}${nsp}${id}${data}`);

/** Engine.IO packets other than messages: open, close, ping, pong, upgrade, noop, and unknown types. */
const engineIoPacket = fc.oneof(
  fc.constantFrom('0', '1', '2', '3', '2probe', '3probe', '5', '6', '7', '', '4', 'b', 'bAAA', 'b@@@'),
  fc.tuple(fc.integer({ min: 0, max: 9 }), fc.string({ maxLength: 30 })).map(([type, rest]) => `${type}${rest}`),
);

/** A packet with a few random edits: characters inserted, deleted, replaced, or the packet cut short. */
const mutated = fc.tuple(socketIoPacket, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 3 }), fc.string({ minLength: 1, maxLength: 3 })), { minLength: 1, maxLength: 4 })).map(
  ([packet, edits]) => edits.reduce((current, [at, op, chars]) => {
    const i = current.length === 0 ? 0 : at % current.length;
    if (op === 0) return current.slice(0, i) + chars + current.slice(i);
    if (op === 1) return current.slice(0, i) + current.slice(i + 1);
    if (op === 2) return current.slice(0, i) + chars + current.slice(i + chars.length);
    return current.slice(0, i);
  }, packet),
);

/** Bytes that are not UTF-8: lone continuation bytes, overlong forms, surrogates, 0xFF. */
const invalidUtf8 = fc.tuple(socketIoPacket, fc.constantFrom([0xff], [0xfe, 0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82])).map(
  ([packet, bytes]) => ({ kind: 'raw-text', data: Buffer.concat([Buffer.from(packet.slice(0, 20)), Buffer.from(bytes), Buffer.from(packet.slice(20))]) }) satisfies Frame,
);

/** Every kind of frame, weighted towards Socket.IO packets (which reach the gateway's handlers). */
export const hostileFrame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 10, arbitrary: socketIoPacket.map(text) },
  { weight: 4, arbitrary: mutated.map(text) },
  { weight: 2, arbitrary: engineIoPacket.map(text) },
  { weight: 1, arbitrary: invalidUtf8 },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => binary(Buffer.from(bytes))) },
);

/**
 * A well-formed EVENT to `/` (`42[ackId]["name", …args]`) with hostile arguments: it passes the parser and
 * reaches the gateway's handlers, where the random mix rarely gets (its first malformed packet closes the
 * connection).
 */
export const hostileEvent: fc.Arbitrary<Frame> = fc
  .tuple(fc.oneof(fc.constant(''), fc.nat().map(String), fc.constant('9'.repeat(400))), fc.oneof(fc.constantFrom(...HANDLED_NAMES), fc.string({ maxLength: 12 })), fc.array(fc.oneof(payloadValue.map((value) => JSON.stringify(value)), nested(fc.constant(true))), { maxLength: 3 }))
  .map(([id, name, args]) => text(`42${id}[${[JSON.stringify(name), ...args].join(',')}]`));

/** What one connection is sent: the random mix, or well-formed events with hostile arguments. */
export type FrameMix = 'random' | 'events';

/** `count` frames of the corpus; the same `seed` gives the same frames (a failing run can be replayed). */
export function hostileFrames(count: number, seed: number, mix: FrameMix = 'random'): Frame[] {
  return fc.sample(mix === 'random' ? hostileFrame : hostileEvent, { numRuns: count, seed });
}

const ATTACHMENT = binary(Buffer.from([1, 2, 3]));

/**
 * Crash packets of known advisories, each followed by what completes it. Sent on authenticated connections
 * (the crashes happened in a connected namespace's socket).
 * - CVE-2023-32695 (socket.io-parser < 4.2.3): an event name that is not a string, e.g. an object with its
 *   own `toString`, crashed the server with an uncaught exception.
 * - CVE-2022-2421 (socket.io-parser < 4.2.1 / 4.0.5): a placeholder's `num` not checked ("bar", "__proto__",
 *   out of range, an object), and `_placeholder` objects where no attachment was announced.
 * - A header announcing more attachments than the parser allows (it must refuse, not buffer them).
 */
export const ADVISORY_PACKETS: readonly (readonly Frame[])[] = [
  [text('42[{"toString":"foo"}]')],
  [text('42[{"toString":"foo"},"bar"]')],
  [text('420[{"toString":"foo"}]')],
  [text('452-["foo",{"_placeholder":true,"num":"bar"}]'), ATTACHMENT, ATTACHMENT],
  [text('451-[{"toString":"foo"},{"_placeholder":true,"num":0}]'), ATTACHMENT],
  [text('451-["foo",{"_placeholder":true,"num":"__proto__"}]'), ATTACHMENT],
  [text('451-["foo",{"_placeholder":true,"num":"toString"}]'), ATTACHMENT],
  [text('451-["foo",{"_placeholder":true,"num":-1}]'), ATTACHMENT],
  [text('451-["foo",{"_placeholder":true,"num":5}]'), ATTACHMENT],
  [text('451-["foo",{"_placeholder":true,"num":{"toString":null}}]'), ATTACHMENT],
  [text('461-0[{"_placeholder":true,"num":"bar"}]'), ATTACHMENT],
  [text('42["foo",{"_placeholder":true,"num":0}]')],
  [text('40{"_placeholder":true,"num":0}')],
  [text('451-["x",{"_placeholder":true,"num":0}]'), text('42["y"]')],
  [text('4999999999-["x",{"_placeholder":true,"num":0}]'), ATTACHMENT],
  [text('511-["x",{"_placeholder":true,"num":0}]'), ...Array.from({ length: 11 }, () => ATTACHMENT)],
  [text('451000000-["x",{"_placeholder":true,"num":0}]'), ...Array.from({ length: 50 }, () => ATTACHMENT)],
  [text('42'), text('42[]'), text('42[null]'), text('42[1]'), text('42{"a":1}')],
  [text(`42${'['.repeat(100_000)}`)],
];

/** A text frame one byte longer than `maxPayloadBytes` (a valid event with a long string argument). */
export function oversizedFrame(maxPayloadBytes: number): Frame {
  const prefix = '42["x","';
  return text(`${prefix}${'a'.repeat(maxPayloadBytes + 1 - prefix.length - 2)}"]`);
}
