import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app/deps.ts';
import { resetSandbox, sandboxFixtures, simulateScenario } from '../../app/sandbox.ts';
import { caller } from './routes.ts';
import { errorResponses } from './schemas.ts';

const SimulateBody = T.Object(
  {
    scenario: T.String({
      maxLength: 64,
      description: 'A scenario listed by the fixtures endpoint, or `none` to run the real pipeline again.',
    }),
    config: T.Optional(
      T.Object(
        {
          count: T.Optional(
            T.Integer({
              minimum: 1,
              maximum: 10000,
              description: 'How many verifications simulate it (default: until changed or reset).',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/**
 * TXCloud's sandbox endpoints (devex.openapi.yaml): the scenarios a test key can simulate, the tenant's
 * simulated scenario, and a reset of its sandbox data (docs/sandbox.md).
 */
export function registerSandboxRoutes(app: FastifyInstance, deps: AppDeps): void {
  const tags = ['Sandbox'];
  app.get(
    '/v1/developers/sandbox/fixtures',
    {
      config: { scope: 'identity:read' },
      schema: {
        operationId: 'getFixtures',
        tags,
        summary: 'Sandbox scenarios, what each decides, and the magic inputs',
        description:
          'Every scenario a test key can simulate (`metadata.sandbox_scenario`), with the status and risk factors the real policy gives it on the default checks, and the scenario the sandbox simulates now.',
        'x-responses': errorResponses(401, 403),
      },
    },
    async (req) => sandboxFixtures(deps, caller(req)),
  );
  app.post(
    '/v1/developers/sandbox/simulate',
    {
      config: { scope: 'identity:write' },
      schema: {
        operationId: 'simulate',
        tags,
        summary: 'Simulate a scenario on the next sandbox verifications',
        description:
          'Sandbox verifications that name no scenario simulate this one (`config.count` times, or until changed; `none` clears it). Test keys only.',
        body: SimulateBody,
        'x-responses': errorResponses(400, 401, 403),
      },
    },
    async (req) => simulateScenario(deps, caller(req), req.body as { scenario: string; config?: object }),
  );
  app.post(
    '/v1/developers/sandbox/reset',
    {
      config: { scope: 'identity:write' },
      schema: {
        operationId: 'resetSandbox',
        tags,
        summary: 'Delete every sandbox verification and clear the simulated scenario',
        description: 'Test keys only. Live data is never touched.',
        'x-responses': errorResponses(401, 403),
      },
    },
    async (req) => resetSandbox(deps, caller(req)),
  );
}
