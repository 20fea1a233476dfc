-- Text search over units (q= on the unit lists): a trigram index of each unit's name, address, USCC and site
-- code, kept in step with `entities` by triggers. See docs/storage.md, "Text search".
--
-- The index holds no text of its own (content=''), only which units contain each trigram (detail=none: no
-- positions). A search looks the term's trigrams up here and checks the candidates against the unit's columns
-- with LIKE, so the index only has to find a superset. Fields are joined with U+001F and the document ends with
-- two more, so every one- or two-character substring of a field is the start of some indexed trigram: a
-- two-character term is looked up through the vocabulary (`entity_search_terms`) as a range of trigrams.

CREATE VIRTUAL TABLE entity_search USING fts5 (doc, content = '', detail = none, tokenize = 'trigram');
CREATE VIRTUAL TABLE entity_search_terms USING fts5vocab (entity_search, 'row');

CREATE TRIGGER search_entities_insert AFTER INSERT ON entities BEGIN
    INSERT INTO entity_search (rowid, doc) VALUES (new.id,
        new.name || char(31) || COALESCE(new.address, '') || char(31) || COALESCE(new.uscc, '') || char(31)
        || COALESCE(new.site_code, '') || char(31) || char(31));
END;

CREATE TRIGGER search_entities_update AFTER UPDATE OF name, address, uscc, site_code ON entities BEGIN
    INSERT INTO entity_search (entity_search, rowid, doc) VALUES ('delete', old.id,
        old.name || char(31) || COALESCE(old.address, '') || char(31) || COALESCE(old.uscc, '') || char(31)
        || COALESCE(old.site_code, '') || char(31) || char(31));
    INSERT INTO entity_search (rowid, doc) VALUES (new.id,
        new.name || char(31) || COALESCE(new.address, '') || char(31) || COALESCE(new.uscc, '') || char(31)
        || COALESCE(new.site_code, '') || char(31) || char(31));
END;

CREATE TRIGGER search_entities_delete AFTER DELETE ON entities BEGIN
    INSERT INTO entity_search (entity_search, rowid, doc) VALUES ('delete', old.id,
        old.name || char(31) || COALESCE(old.address, '') || char(31) || COALESCE(old.uscc, '') || char(31)
        || COALESCE(old.site_code, '') || char(31) || char(31));
END;

INSERT INTO entity_search (rowid, doc)
SELECT id, name || char(31) || COALESCE(address, '') || char(31) || COALESCE(uscc, '') || char(31)
       || COALESCE(site_code, '') || char(31) || char(31)
FROM entities;
