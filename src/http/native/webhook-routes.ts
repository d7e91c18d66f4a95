import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app/deps.ts';
import {
  createEndpoint,
  deleteEndpoint,
  endpointLogs,
  getEndpoint,
  listDeliveries,
  listEndpoints,
  redeliver,
  rotateEndpointSecret,
  signingSecret,
  testEndpoint,
  updateEndpoint,
  WEBHOOK_EVENTS,
} from '../../app/webhooks.ts';
import { HuwiyaError } from '../../domain/errors.ts';
import { caller, idParam as id } from './routes.ts';
import { errorResponses, IdParams } from './schemas.ts';

const Events = T.Array(T.String({ maxLength: 64 }), {
  minItems: 1,
  maxItems: 20,
  description: `Events to receive: ${WEBHOOK_EVENTS.join(', ')}, or * for all.`,
});
const WebhookCreate = T.Object(
  {
    url: T.String({
      format: 'uri',
      maxLength: 2048,
      description: 'http or https URL that receives POSTed events',
    }),
    events: Events,
    description: T.Optional(T.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
const WebhookUpdate = T.Object(
  {
    url: T.Optional(T.String({ format: 'uri', maxLength: 2048 })),
    events: T.Optional(Events),
    description: T.Optional(T.String({ maxLength: 500 })),
    status: T.Optional(T.Union([T.Literal('active'), T.Literal('disabled')])),
  },
  { additionalProperties: false },
);
const WebhookEndpoint = T.Object(
  {
    id: T.String(),
    object: T.Literal('webhook_endpoint'),
    url: T.String(),
    events: T.Array(T.String()),
    secret: T.String({ description: 'The newest signing secret (whsec_…)' }),
    status: T.String(),
    created_at: T.String({ format: 'date-time' }),
  },
  { additionalProperties: true },
);
const Limit = T.Optional(T.Integer({ minimum: 1, maximum: 100, default: 50 }));

/** Webhook endpoint management (devex.openapi.yaml) plus dead-letter and rotation extensions; needs `admin`. */
export function registerWebhookRoutes(app: FastifyInstance, deps: AppDeps): void {
  const base = { config: { scope: 'admin' as const } };
  const tags = ['Webhooks'];
  app.get(
    '/v1/developers/webhooks',
    {
      ...base,
      schema: {
        operationId: 'listWebhooks',
        tags,
        summary: 'List webhook endpoints',
        'x-responses': errorResponses(401, 403),
      },
    },
    async (req) => listEndpoints(deps, caller(req)),
  );
  app.post(
    '/v1/developers/webhooks',
    {
      ...base,
      schema: {
        operationId: 'createWebhook',
        tags,
        summary: 'Create a webhook endpoint',
        description:
          'The answer carries the signing secret. Deliveries are signed Standard-Webhooks style (`webhook-id`, `webhook-timestamp`, `webhook-signature`) and with the TXCloud legacy headers.',
        body: WebhookCreate,
        'x-responses': { 201: WebhookEndpoint, ...errorResponses(400, 401, 403) },
      },
    },
    async (req, reply) =>
      reply
        .code(201)
        .send(await createEndpoint(deps, caller(req), req.body as { url: string; events: string[] })),
  );
  app.get(
    '/v1/developers/webhooks/deliveries',
    {
      ...base,
      schema: {
        operationId: 'listWebhookDeliveries',
        tags,
        summary: 'List deliveries (e.g. the dead-lettered ones)',
        querystring: T.Object(
          {
            state: T.Optional(T.Union([T.Literal('pending'), T.Literal('delivered'), T.Literal('dead')])),
            limit: Limit,
          },
          { additionalProperties: false },
        ),
        'x-responses': errorResponses(400, 401, 403),
      },
    },
    async (req) => {
      const q = req.query as { state?: 'pending' | 'delivered' | 'dead'; limit?: number };
      return listDeliveries(deps, caller(req), q.state, q.limit ?? 50);
    },
  );
  app.post(
    '/v1/developers/webhooks/deliveries/:id/redeliver',
    {
      ...base,
      schema: {
        operationId: 'redeliverWebhook',
        tags,
        summary: 'Send a dead-lettered or delivered event again',
        params: IdParams,
        'x-responses': errorResponses(401, 403, 404, 409),
      },
    },
    async (req) => redeliver(deps, caller(req), id(req)),
  );
  app.get(
    '/v1/developers/webhooks/signing-secret',
    {
      ...base,
      schema: {
        operationId: 'getWebhookSigningSecret',
        tags,
        summary: 'The secret that signs deliveries to per-request webhook_url',
        'x-responses': errorResponses(401, 403),
      },
    },
    async (req) => signingSecret(deps, caller(req)),
  );
  app.get(
    '/v1/developers/webhooks/:id',
    {
      ...base,
      schema: {
        operationId: 'getWebhook',
        tags,
        summary: 'Get a webhook endpoint',
        params: IdParams,
        'x-responses': { 200: WebhookEndpoint, ...errorResponses(401, 403, 404) },
      },
    },
    async (req) => getEndpoint(deps, caller(req), id(req)),
  );
  app.put(
    '/v1/developers/webhooks/:id',
    {
      ...base,
      schema: {
        operationId: 'updateWebhook',
        tags,
        summary: 'Update a webhook endpoint',
        params: IdParams,
        body: WebhookUpdate,
        'x-responses': { 200: WebhookEndpoint, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) =>
      updateEndpoint(deps, caller(req), id(req), req.body as Parameters<typeof updateEndpoint>[3]),
  );
  app.delete(
    '/v1/developers/webhooks/:id',
    {
      ...base,
      schema: {
        operationId: 'deleteWebhook',
        tags,
        summary: 'Delete a webhook endpoint',
        params: IdParams,
        'x-responses': errorResponses(401, 403, 404),
      },
    },
    async (req) => deleteEndpoint(deps, caller(req), id(req)),
  );
  app.post(
    '/v1/developers/webhooks/:id/test',
    {
      ...base,
      schema: {
        operationId: 'testWebhook',
        tags,
        summary: 'Send a test event now and report the attempt',
        params: IdParams,
        'x-responses': errorResponses(400, 401, 403, 404),
      },
    },
    async (req) => {
      // Optional body {event_type}; checked here because a schema would also demand a body.
      const body = (req.body ?? {}) as Record<string, unknown>;
      for (const k of Object.keys(body)) {
        if (k !== 'event_type')
          throw new HuwiyaError('unknown_parameter', `${k} is not accepted.`, { param: k });
      }
      if (body.event_type !== undefined && typeof body.event_type !== 'string') {
        throw new HuwiyaError('invalid_parameter', 'event_type must be a string.', { param: 'event_type' });
      }
      return testEndpoint(deps, caller(req), id(req), body.event_type);
    },
  );
  app.post(
    '/v1/developers/webhooks/:id/rotate-secret',
    {
      ...base,
      schema: {
        operationId: 'rotateWebhookSecret',
        tags,
        summary: 'Start signing with a new secret; previous ones keep verifying for 24 h',
        params: IdParams,
        'x-responses': { 200: WebhookEndpoint, ...errorResponses(401, 403, 404) },
      },
    },
    async (req) => rotateEndpointSecret(deps, caller(req), id(req)),
  );
  app.get(
    '/v1/developers/webhooks/:id/logs',
    {
      ...base,
      schema: {
        operationId: 'getWebhookLogs',
        tags,
        summary: 'Deliveries to this endpoint with every attempt',
        params: IdParams,
        querystring: T.Object({ limit: Limit }, { additionalProperties: false }),
        'x-responses': errorResponses(401, 403, 404),
      },
    },
    async (req) => endpointLogs(deps, caller(req), id(req), (req.query as { limit?: number }).limit ?? 50),
  );
}
