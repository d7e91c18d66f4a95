import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app/deps.ts';
import { getAccount, getTenantSettings, putTenantSettings } from '../../app/tenant-settings.ts';
import { caller } from './routes.ts';
import { errorResponses } from './schemas.ts';

const Effect = T.Union(['rejects', 'rejects_when_strong', 'reviews', 'adds'].map((e) => T.Literal(e)));
const SettingsBody = T.Object(
  {
    policy: T.Optional(
      T.Object(
        {
          min_age_years: T.Optional(T.Integer({ minimum: 0, maximum: 120 })),
          verify_below: T.Optional(
            T.Integer({
              minimum: 1,
              maximum: 1000,
              description: 'A score below this is verified (default 250).',
            }),
          ),
          reject_at: T.Optional(
            T.Integer({
              minimum: 1,
              maximum: 1000,
              description: 'A score at or above this is rejected (default 750).',
            }),
          ),
          factors: T.Optional(
            T.Record(
              T.String(),
              T.Object(
                { weight: T.Optional(T.Integer({ minimum: 0, maximum: 1000 })), effect: T.Optional(Effect) },
                { additionalProperties: false },
              ),
              { description: 'Per risk factor code (docs/risk-factors.md): its weight and/or effect.' },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    duplicate: T.Optional(
      T.Object(
        {
          face_index: T.Optional(
            T.Boolean({
              description: 'Index and search selfies (default true); false removes every indexed face.',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    liveness: T.Optional(
      T.Object(
        {
          require_challenge: T.Optional(
            T.Boolean({
              description:
                'Liveness needs the capture page’s head-turn challenge passed (default false); a verification without one goes to review (liveness_challenge_missing).',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** The account (tenant) a key belongs to and its settings (TXCloud devex `/developers/account`). */
export function registerAccountRoutes(app: FastifyInstance, deps: AppDeps): void {
  const tags = ['Account'];
  app.get(
    '/v1/developers/account',
    {
      config: { scope: 'identity:read' },
      schema: {
        operationId: 'getAccount',
        tags,
        summary: 'The account the key belongs to, with its settings',
        'x-responses': errorResponses(401, 403),
      },
    },
    async (req) => getAccount(deps, caller(req)),
  );
  app.get(
    '/v1/developers/account/settings',
    {
      config: { scope: 'identity:read' },
      schema: {
        operationId: 'getSettings',
        tags,
        summary: "The account's settings and the policy its verifications are decided under",
        description:
          'A decision made under a settings revision names it in its `policy_version` (`…+t<revision>`); `?revision=N` shows that revision.',
        querystring: T.Object(
          { revision: T.Optional(T.Integer({ minimum: 0 })) },
          { additionalProperties: false },
        ),
        'x-responses': errorResponses(400, 401, 403, 404),
      },
    },
    async (req) => getTenantSettings(deps, caller(req), (req.query as { revision?: number }).revision),
  );
  app.put(
    '/v1/developers/account/settings',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'updateSettings',
        tags,
        summary: 'Replace the account settings (a new revision)',
        description:
          'Replaces the whole settings: the risk policy replacements (minimum age, verify and reject scores, any factor’s weight and effect) and the face index switch. Earlier decisions keep the revision they were made under.',
        body: SettingsBody,
        'x-responses': errorResponses(400, 401, 403),
      },
    },
    async (req) => putTenantSettings(deps, caller(req), req.body),
  );
}
