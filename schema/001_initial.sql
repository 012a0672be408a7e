-- xray schema, version 1: executions, their steps, and one row per evaluated candidate.
--
-- Every primary key starts with the tenant column `app`, and there are no
-- foreign keys, so the same schema can be distributed by `app` (Citus) and
-- no constraint ever crosses tenants. Consistency between the three tables is
-- kept by the daemon's idempotent merge, which replaces an execution's steps
-- and evaluations in the same transaction as the execution (invariant 4).
--
-- json vs jsonb per column is measured and explained in docs/schema.md:
-- columns that are queried are jsonb; bulky display-only columns are json.

CREATE TABLE executions (
  app          text        NOT NULL,
  id           text        NOT NULL,
  pipeline     text        NOT NULL,
  environment  text,
  status       text        NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
  started_at   timestamptz NOT NULL,
  ended_at     timestamptz,
  duration_ms  double precision GENERATED ALWAYS AS
                 (extract(epoch FROM ended_at - started_at) * 1000) STORED,
  step_count   integer     NOT NULL,
  metadata     jsonb,
  result       json,
  error        json,
  ingested_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (app, id)
);
CREATE INDEX executions_recent ON executions (app, started_at DESC, id);
CREATE INDEX executions_by_pipeline ON executions (app, pipeline, started_at DESC);

CREATE TABLE steps (
  app               text        NOT NULL,
  execution_id      text        NOT NULL,
  step_index        integer     NOT NULL,   -- position in the snapshot's steps array
  name              text        NOT NULL,
  status            text        NOT NULL CHECK (status IN ('completed', 'failed', 'skipped')),
  started_at        timestamptz,
  ended_at          timestamptz,
  duration_ms       double precision GENERATED ALWAYS AS
                      (extract(epoch FROM ended_at - started_at) * 1000) STORED,
  candidates_in     integer,                -- evaluations recorded for the step (NULL: none)
  candidates_passed integer,                -- of those, how many passed
  input             json,
  output            json,
  filters           jsonb,
  selection         jsonb,
  reasoning         text,
  metadata          jsonb,
  error             json,
  PRIMARY KEY (app, execution_id, step_index)
);
CREATE INDEX steps_by_name ON steps (app, name);

CREATE TABLE evaluations (
  app           text    NOT NULL,
  execution_id  text    NOT NULL,
  step_index    integer NOT NULL,
  position      integer NOT NULL,            -- position in the step's evaluations array
  candidate_id  text    NOT NULL,            -- the caller's id for the candidate
  passed        boolean,
  reasons       text[]  NOT NULL DEFAULT '{}',
  scores        jsonb,
  metadata      jsonb,
  PRIMARY KEY (app, execution_id, step_index, position)
);
CREATE INDEX evaluations_by_candidate ON evaluations (app, candidate_id);
