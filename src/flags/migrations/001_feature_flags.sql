-- Feature flag storage. `environment` is part of every key so one database can serve several environments.
-- A row in lagless_feature_flags means "state is stored" (even with no open gate: `set false`);
-- no row means the definition's default_enabled applies.
CREATE TABLE lagless_feature_flags (
  environment text NOT NULL,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (environment, name)
);

-- One row per open gate value: one per actor, one per group, one for boolean / each percentage.
CREATE TABLE lagless_feature_gates (
  environment text NOT NULL,
  flag        text NOT NULL,
  gate        text NOT NULL CHECK (gate IN ('boolean', 'actors', 'groups', 'percentage_of_actors', 'percentage_of_time')),
  value       text NOT NULL,
  PRIMARY KEY (environment, flag, gate, value),
  FOREIGN KEY (environment, flag) REFERENCES lagless_feature_flags (environment, name) ON DELETE CASCADE
);

-- Append-only. old_value / new_value are the whole gate set as JSON (null = nothing stored), so any change
-- can be undone by setting the old value again.
CREATE TABLE lagless_feature_flag_audit (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  by          text NOT NULL,
  environment text NOT NULL,
  flag        text NOT NULL,
  action      text NOT NULL,
  old_value   jsonb,
  new_value   jsonb
);
CREATE INDEX lagless_feature_flag_audit_flag ON lagless_feature_flag_audit (environment, flag, id DESC);
