import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app/deps.ts';
import { answerChallenge, issueChallenge } from '../../app/liveness-challenge.ts';
import {
  clientView,
  completeSession,
  createSession,
  getSession,
  uploadSessionPart,
  type SessionAccess,
  type SessionPart,
} from '../../app/sessions.ts';
import { HuwiyaError } from '../../domain/errors.ts';
import { CHECK_NAMES, DOCUMENT_TYPES, type CheckName } from '../../domain/verification.ts';
import { decodeBase64Image } from '../image-input.ts';
import { idParam as id } from './routes.ts';
import { errorResponses, IdParams, Verification } from './schemas.ts';
import { answerIsAbout } from '../answer-is-about.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route also accepts a session's client token (`cst_…`) for that session. */
    allowSessionToken?: boolean;
  }
  interface FastifyRequest {
    sessionAccess?: SessionAccess;
  }
}

const SessionCreate = T.Object(
  {
    document_type: T.Union(DOCUMENT_TYPES.map((d) => T.Literal(d))),
    country: T.String({ pattern: '^[A-Za-z]{2}$' }),
    checks: T.Optional(T.Array(T.Union(CHECK_NAMES.map((c) => T.Literal(c))), { uniqueItems: true })),
    metadata: T.Optional(T.Record(T.String({ maxLength: 64 }), T.Unknown(), { maxProperties: 50 })),
    expires_in: T.Optional(
      T.Integer({ minimum: 60, maximum: 7 * 24 * 3600, description: 'Seconds; default 900' }),
    ),
    redirect_url: T.Optional(T.String({ format: 'uri', maxLength: 2048 })),
    webhook_url: T.Optional(T.String({ format: 'uri', maxLength: 2048 })),
    locale: T.Optional(T.Union([T.Literal('en'), T.Literal('fr'), T.Literal('ar')])),
    liveness_challenge: T.Optional(
      T.Union([T.Literal('on'), T.Literal('off')], {
        description:
          'The capture page films the person turning the head in an order the server draws (active liveness). Default: on when the liveness check is requested.',
      }),
    ),
  },
  { additionalProperties: false },
);
const Turn = T.Union([T.Literal('left'), T.Literal('right')], {
  description: "The person's own left or right",
});
const Challenge = T.Object(
  {
    id: T.String(),
    object: T.Literal('identity.liveness_challenge'),
    turns: T.Array(Turn),
    expires_at: T.String({ format: 'date-time' }),
    attempts_left: T.Integer(),
    frames: T.Object({ min: T.Integer(), max: T.Integer(), max_bytes: T.Integer() }),
  },
  { additionalProperties: false },
);
const ChallengeAnswer = T.Object(
  {
    frames: T.Array(
      T.Object(
        {
          image: T.String({ description: 'Base64, base64url or data URL; JPEG, PNG or WebP; 2 MB at most.' }),
          step: T.Integer({ minimum: 0, maximum: 16, description: 'Index of the turn shown when filmed' }),
          t: T.Number({
            minimum: 0,
            maximum: 600000,
            description: 'Milliseconds since the challenge started',
          }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 60 },
    ),
  },
  { additionalProperties: false },
);
const ChallengeResult = T.Object(
  {
    object: T.Literal('identity.liveness_challenge_result'),
    challenge_id: T.String(),
    status: T.Union([T.Literal('passed'), T.Literal('failed')]),
    reason: T.Optional(T.String()),
    asked: T.Array(Turn),
    observed: T.Array(Turn),
    attempts_left: T.Integer(),
  },
  { additionalProperties: true },
);
const Side = T.Union([T.Literal('front'), T.Literal('back'), T.Literal('selfie')]);
const UploadJson = T.Object(
  {
    side: T.Optional(Side),
    type: T.Optional(
      T.Union([T.Literal('document'), T.Literal('selfie')], {
        description: 'Alternative to side: selfie, or document with side front/back',
      }),
    ),
    image: T.String({ description: 'Base64, base64url or data URL; JPEG, PNG or WebP.' }),
  },
  { additionalProperties: false },
);
const UploadMultipart = T.Object(
  {
    side: T.Optional(Side),
    type: T.Optional(T.Union([T.Literal('document'), T.Literal('selfie')])),
    image: T.Unsafe<Buffer>({ 'x-file': true, description: 'The image file' }),
  },
  { additionalProperties: false },
);
const Session = T.Object(
  {
    id: T.String(),
    object: T.Literal('identity.session'),
    status: T.Union(['pending', 'ready', 'completed', 'expired'].map((s) => T.Literal(s))),
    document_type: T.String(),
    country: T.String(),
    documents: T.Array(
      T.Object({ side: T.String(), uploaded: T.Boolean(), quality_score: T.Optional(T.Number()) }),
    ),
    selfie_uploaded: T.Boolean(),
    expires_at: T.String({ format: 'date-time' }),
    created_at: T.String({ format: 'date-time' }),
    url: T.Optional(
      T.String({ description: 'Hosted capture page (create only); the client token is in its fragment' }),
    ),
    client_token: T.Optional(
      T.String({ description: 'Uploads to and completes this session only (create only)' }),
    ),
  },
  { additionalProperties: true },
);

function access(req: FastifyRequest): SessionAccess {
  if (req.sessionAccess) return req.sessionAccess;
  if (req.caller) return { kind: 'key', caller: req.caller };
  throw new HuwiyaError('authentication_required');
}

function partOf(body: Record<string, unknown>): SessionPart {
  const side = body.side as string | undefined;
  const type = body.type as string | undefined;
  if (type === 'selfie' || side === 'selfie') return 'selfie';
  if (side === 'front' || side === 'back') return side;
  if (type === 'document') return 'front';
  throw new HuwiyaError('missing_parameter', 'side (front, back or selfie) or type is required.', {
    param: 'side',
  });
}

export function registerSessionRoutes(app: FastifyInstance, deps: AppDeps, publicUrl: string): void {
  const tags = ['Sessions'];
  app.post(
    '/v1/identity/sessions',
    {
      config: { scope: 'identity:write' },
      schema: {
        operationId: 'createSession',
        tags,
        summary: 'Create a verification session with a hosted capture page',
        description:
          "Answers the session with `url` (send it to your user: Huwiya's own capture page) and `client_token`, which can only upload to and complete this session. The session expires after `expires_in` seconds (default 900) with an `identity.session.expired` event.",
        body: SessionCreate,
        'x-responses': { 201: Session, ...errorResponses(400, 401, 403) },
      },
    },
    async (req, reply) => {
      const b = req.body as Record<string, unknown>;
      const base = publicUrl;
      const created = await createSession(
        deps,
        req.caller!,
        {
          documentType: String(b.document_type),
          country: String(b.country).toUpperCase(),
          checks: b.checks as CheckName[] | undefined,
          metadata: b.metadata as Record<string, unknown> | undefined,
          expiresInSeconds: b.expires_in as number | undefined,
          redirectUrl: b.redirect_url as string | undefined,
          webhookUrl: b.webhook_url as string | undefined,
          locale: b.locale as string | undefined,
          livenessChallenge: b.liveness_challenge as 'on' | 'off' | undefined,
        },
        base,
      );
      return reply.code(201).send(created);
    },
  );
  app.get(
    '/v1/identity/sessions/:id',
    {
      config: { scope: 'identity:read', allowSessionToken: true },
      schema: {
        operationId: 'getSession',
        tags,
        summary: 'Get a session',
        params: IdParams,
        'x-responses': { 200: Session, ...errorResponses(401, 403, 404) },
      },
    },
    async (req) => {
      const who = access(req);
      const view = await getSession(deps, who, id(req));
      return who.kind === 'client' ? clientView(view) : view;
    },
  );
  app.post(
    '/v1/identity/sessions/:id/documents',
    {
      config: { scope: 'identity:write', allowSessionToken: true },
      schema: {
        operationId: 'uploadSessionDocument',
        tags,
        summary: 'Upload the document front, back or the selfie',
        description:
          "Accepts `{side, image}` or `{type, image}`, JSON base64 or multipart. The image is graded with the rules of POST /identity/validate; the answer carries the session and the upload's issues.",
        params: IdParams,
        body: {
          content: {
            'application/json': { schema: UploadJson },
            'multipart/form-data': { schema: UploadMultipart },
          },
        },
        'x-responses': { 200: Session, ...errorResponses(400, 401, 403, 404, 409, 413, 415) },
      },
    },
    async (req) => {
      const b = (req.body ?? {}) as Record<string, unknown>;
      const part = partOf(b);
      if (b.image === undefined || b.image === '')
        throw new HuwiyaError('missing_parameter', 'image is required.', { param: 'image' });
      const who = access(req);
      const { upload, ...view } = await uploadSessionPart(
        deps,
        who,
        id(req),
        part,
        decodeBase64Image(b.image, 'image'),
      );
      return { ...(who.kind === 'client' ? clientView(view) : view), upload };
    },
  );
  app.post(
    '/v1/identity/sessions/:id/complete',
    {
      config: { scope: 'identity:write', allowSessionToken: true },
      schema: {
        operationId: 'completeSession',
        tags,
        summary: 'Complete the session and start its verification',
        description:
          'All required parts must be uploaded (409 `invalid_state` lists what is missing). Answers the verification, `pending` until a worker decides it; its outcome arrives by webhook.',
        params: IdParams,
        'x-responses': { 200: Verification, ...errorResponses(401, 403, 404, 409) },
      },
    },
    async (req) => {
      const who = access(req);
      const { verification, session } = await completeSession(deps, who, id(req));
      answerIsAbout(req, verification.id as string);
      // The phone learns that its part is done, not the verification's contents.
      if (who.kind === 'client')
        return {
          id: verification.id,
          object: verification.object,
          status: verification.status,
          session: clientView(session as Record<string, unknown>),
        };
      return { ...verification, session };
    },
  );
  app.post(
    '/v1/identity/sessions/:id/liveness-challenge',
    {
      config: { scope: 'identity:write', allowSessionToken: true },
      schema: {
        operationId: 'createLivenessChallenge',
        tags,
        summary: 'Draw the head turns the person must follow (active liveness)',
        description:
          'The capture page calls this after the selfie: the answer lists the turns, in the order drawn, and the challenge expires after 120 s. Each call is an attempt (three per session) and replaces an unanswered challenge.',
        params: IdParams,
        'x-responses': { 201: Challenge, ...errorResponses(401, 403, 404, 409) },
      },
    },
    async (req, reply) => reply.code(201).send(await issueChallenge(deps, access(req), id(req))),
  );
  app.post(
    '/v1/identity/sessions/:id/liveness-challenge/:challenge_id/frames',
    {
      config: { scope: 'identity:write', allowSessionToken: true },
      schema: {
        operationId: 'answerLivenessChallenge',
        tags,
        summary: 'Send the frames filmed during the challenge and get its outcome',
        description:
          'Frames in the order filmed, each with the index of the turn shown and its time. The challenge is spent by this call (a second answer is 409). Passed when the turns asked are seen, in order and no others, the turned face is not a flat picture, and the frontal frame matches the selfie; the outcome goes with the session to its verification (`checks.liveness.evidence.challenge`).',
        params: T.Object({ id: T.String(), challenge_id: T.String({ pattern: '^lch_[a-z0-9]{6,40}$' }) }),
        body: ChallengeAnswer,
        'x-responses': { 200: ChallengeResult, ...errorResponses(400, 401, 403, 404, 409, 413, 415) },
      },
    },
    async (req) => {
      const b = req.body as { frames: { image: string; step: number; t: number }[] };
      const frames = b.frames.map((f, i) => ({
        image: decodeBase64Image(f.image, `frames[${i}].image`),
        step: f.step,
        t: f.t,
      }));
      return answerChallenge(
        deps,
        access(req),
        id(req),
        (req.params as { challenge_id: string }).challenge_id,
        frames,
      );
    },
  );
}
