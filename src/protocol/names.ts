import { Type } from '@sinclair/typebox';

/** The longest user, session or room name; also the longest path parameter the router accepts. */
export const MAX_NAME_LENGTH = 512;

/** No C0 control character (NUL, newline, escape, …) and no DEL: such names would end up in logs, keys and UIs. */
export const NAME_PATTERN = '^[^\\u0000-\\u001f\\u007f]*$';

/** A user, session or room name, as every surface takes it: 1 to 512 characters, no control characters. */
export const Name = Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH, pattern: NAME_PATTERN });
