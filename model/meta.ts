// Common envelope of every weft resource: apiVersion, kind, metadata, spec, status.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { API_VERSION } from './kind-names.js';
import { LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN } from './name-patterns.js';

export { API_VERSION } from './kind-names.js';

export { DNS_LABEL_PATTERN, DNS_SUBDOMAIN_PATTERN, LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN } from './name-patterns.js';

export const Labels = Type.Record(
  Type.String({ pattern: LABEL_KEY_PATTERN, maxLength: 317 }),
  Type.String({ pattern: LABEL_VALUE_PATTERN, maxLength: 63 }),
  // Without additionalProperties: false a key that misses the pattern is simply not checked.
  { description: 'Key/value labels, used by selectors (policies, prune).', additionalProperties: false },
);

export function objectMeta(namePattern: string, nameMaxLength: number) {
  return Type.Object(
    {
      name: Type.String({ pattern: namePattern, minLength: 1, maxLength: nameMaxLength, description: 'Unique name within the kind.' }),
      labels: Type.Optional(Labels),
      uid: Type.Optional(Type.String({ description: 'Set by the controller.' })),
      resourceVersion: Type.Optional(
        Type.String({ pattern: '^[0-9]+$', description: 'Store revision of the last write; send it back on update for optimistic concurrency.' }),
      ),
      generation: Type.Optional(Type.Integer({ minimum: 0, description: 'Bumped by the controller on every spec change.' })),
      creationTimestamp: Type.Optional(Type.String({ description: 'Set by the controller.' })),
    },
    { additionalProperties: false },
  );
}

export const Condition = Type.Object(
  {
    type: Type.String(),
    status: Type.Union([Type.Literal('True'), Type.Literal('False'), Type.Literal('Unknown')]),
    reason: Type.String(),
    message: Type.String(),
    lastTransitionTime: Type.String(),
  },
  { additionalProperties: false },
);
export type Condition = Static<typeof Condition>;

export type ObjectMeta = Static<ReturnType<typeof objectMeta>>;

/** The common shape; each kind narrows kind/spec/status. */
export interface Resource<K extends string, S, T> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
  status?: T;
}

export function resourceSchema<K extends string, S extends TSchema, T extends TSchema>(
  kind: K,
  meta: ReturnType<typeof objectMeta>,
  spec: S,
  status: T,
  description: string,
) {
  return Type.Object(
    {
      apiVersion: Type.Literal(API_VERSION),
      kind: Type.Literal(kind),
      metadata: meta,
      spec,
      status: Type.Optional(status),
    },
    { additionalProperties: false, $id: `weft.dev/v1/${kind}`, description },
  );
}
