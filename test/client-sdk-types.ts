/**
 * Compile-time checks (`npm test` runs `tsc` first): the SDK's wire types (packages/client/src/protocol.ts)
 * are the server's schema types, so a change to a schema the SDK reads fails the build until the SDK
 * follows. Same<A, B> holds when each is assignable to the other.
 */
import type { Static } from '@sinclair/typebox';
import type * as Sdk from '@switchboard/client';
import type { HistoryAnswer, PublishAnswer, RoomMembersAnswer } from '../src/protocol/answer-schemas.js';
import type { ErrorBodySchema } from '../src/protocol/error-schema.js';
import type {
  ChannelAck, DeliveryMeta, DirectMessageAck, LOGOUT_REASONS, LogoutEvent, RefreshedAck, RelayedAck, RelayMeta,
} from '../src/protocol/socket-answer-schemas.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;

export type SdkWireTypesAreTheServers = [
  Holds<Same<Sdk.HistoryAnswer, HistoryAnswer>>,
  Holds<Same<Sdk.RoomMembersAnswer, RoomMembersAnswer>>,
  Holds<Same<Sdk.DeliveryMeta, Static<typeof DeliveryMeta>>>,
  Holds<Same<Sdk.DirectMessageAck, Static<typeof DirectMessageAck>>>,
  Holds<Same<Sdk.ChannelAck, Static<typeof ChannelAck>>>,
  Holds<Same<Sdk.RelayedAck, Static<typeof RelayedAck>>>,
  Holds<Same<Sdk.RelayMeta, Static<typeof RelayMeta>>>,
  Holds<Same<Sdk.RefreshedAck, Static<typeof RefreshedAck>>>,
  Holds<Same<Sdk.LogoutEvent, Static<typeof LogoutEvent>>>,
  Holds<Same<Sdk.LogoutReason, (typeof LOGOUT_REASONS)[number]>>,
  // A publish's places are the places a delivery carries.
  Holds<Same<Sdk.HistoryPlace, NonNullable<PublishAnswer['history']>[string]>>,
  // The SDK reads any code (a newer gateway may add some); every body the server builds is one it reads.
  Holds<Static<typeof ErrorBodySchema> extends Sdk.ErrorBody ? true : false>,
];
