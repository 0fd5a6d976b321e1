import cors from '@fastify/cors';
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { targetOf, type OriginPolicy } from '../auth/origin-policy.js';
import { GatewayError } from '../protocol/errors.js';

type OnRequest = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;
type AddHook = (name: string, handler: OnRequest) => unknown;

/** What a browser may send and how long it may cache a preflight's answer. */
const CORS_OPTIONS = { origin: true, methods: ['GET', 'POST', 'DELETE'], allowedHeaders: ['content-type', 'authorization', 'x-api-key'], strictPreflight: false, maxAge: 600 };

/**
 * CORS by the origin policy, through @fastify/cors, for the requests it concerns: those with an `Origin`
 * (browsers) and preflights. Per request, an Origin equal to the request's own (its Host) is same-origin,
 * whatever CORS_ORIGIN lists; an Origin the policy refuses is 403 ORIGIN_FORBIDDEN.
 *
 * A request without `Origin` (a backend, curl) has nothing to allow: it gets `Vary: Origin` and skips the
 * plugin. @fastify/cors has no such shortcut: options that depend on the request (a delegator, needed for
 * the same-origin rule) are normalized again for every request, which was about 5 % of a targeted
 * publish's CPU in a profile (`npm run bench`, phase b). The plugin is handed the app with its `onRequest`
 * hook wrapped in that check; the rest it registers (the OPTIONS route, a request decorator) is the app's own.
 */
export async function registerCors(app: FastifyInstance, originPolicy: OriginPolicy): Promise<void> {
  const browserOnly: FastifyPluginCallback<Parameters<typeof cors>[1]> = (instance, options, done) => {
    const addHook: AddHook = (name, handler) => instance.addHook(name as 'onRequest', name === 'onRequest' ? skipWithoutOrigin(handler) : handler);
    const wrapped = new Proxy(instance, {
      get(target, property) {
        if (property === 'addHook') return addHook;
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    cors(wrapped, options, done);
  };
  // Registered in the app's own context (what fastify-plugin marks), so the hook covers every route.
  Object.assign(browserOnly, { [Symbol.for('skip-override')]: true });
  await app.register(browserOnly, {
    delegator: (request, callback) => {
      if (originPolicy.allows(request.headers.origin, targetOf(request.raw))) callback(null, CORS_OPTIONS);
      else callback(new GatewayError('ORIGIN_FORBIDDEN'));
    },
  });
}

function skipWithoutOrigin(handler: OnRequest): OnRequest {
  return function (this: unknown, request, reply, done) {
    if (request.headers.origin !== undefined || request.raw.method === 'OPTIONS') {
      handler.call(this, request, reply, done);
      return;
    }
    // What the plugin adds to such a request (its options depend on the request): caches keep answers
    // to browsers and to others apart.
    if (!reply.hasHeader('vary')) reply.header('vary', 'Origin');
    done();
  };
}
