-- Text search over units (q= on the unit lists): a GIN index of the two-character runs (bigrams) of each unit's
-- name, address, USCC and site code, lower-cased. See docs/storage.md, "Text search".
--
-- A search looks up the units holding every bigram of the term and checks them against the columns with LIKE,
-- so the index only has to find a superset. Bigrams rather than pg_trgm's trigrams: the common search is a
-- two-character Chinese word (快递, 外卖, 骑手), which has no trigram, and one bigram index serves every term of
-- two characters or more. Fields are joined with U+001F so no bigram spans two of them by accident.

CREATE FUNCTION dj_bigrams(t text) RETURNS text[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    out text[] := '{}';
    prev text := NULL;
    ch text;
BEGIN
    FOREACH ch IN ARRAY string_to_array(lower(t), NULL) LOOP
        IF prev IS NOT NULL THEN
            out := out || (prev || ch);
        END IF;
        prev := ch;
    END LOOP;
    RETURN out;
END
$$;

CREATE FUNCTION dj_entity_bigrams(name text, address text, uscc text, site_code text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT dj_bigrams(COALESCE(name, '') || chr(31) || COALESCE(address, '') || chr(31) || COALESCE(uscc, '')
                      || chr(31) || COALESCE(site_code, ''))
$$;

CREATE INDEX entities_search ON entities USING gin (dj_entity_bigrams(name, address, uscc, site_code));
