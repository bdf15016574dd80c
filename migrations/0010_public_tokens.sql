-- A key whose token is public by declaration (the default sandbox's documented tokens, and a
-- fixed test token a scenario names) keeps its plaintext here, so that a scenario exported
-- from its tenant can name it again. Every other key keeps only its hash.
ALTER TABLE api_keys ADD COLUMN public_token TEXT;
