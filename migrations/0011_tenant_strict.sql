-- A tenant created with `"strict": true` answers 400 to what soundcheck would otherwise accept
-- with a `Soundcheck-Warning` (unknown fields, nulls, broadcasts by omission, legacy words).
-- Fixed at creation, so the key caches may keep it in each caller.
ALTER TABLE tenants ADD COLUMN strict INTEGER NOT NULL DEFAULT 0;
