-- A user's token generation (PostgreSQL; the same as
-- sqlite/0006_token_generation.sql): every token carries the generation it
-- was issued at (its token_generation claim) and is valid only while the
-- user's is the same. Changing the password or deactivating the user moves
-- it on, which ends every token issued before, exactly: no clock is
-- compared. Tokens issued before this column existed have no claim and read
-- as 0.
ALTER TABLE users ADD COLUMN token_generation BIGINT NOT NULL DEFAULT 0
  CHECK (token_generation >= 0);
