import { Type } from '@sinclair/typebox';

/** The longest user, session or room name; also the longest path parameter the router accepts. */
export const MAX_NAME_LENGTH = 512;

/** A user, session or room name, as every surface takes it. */
export const Name = Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH });
