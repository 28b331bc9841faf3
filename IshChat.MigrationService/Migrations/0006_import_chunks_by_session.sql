-- import writes messages in chunks of whole sessions, adjacent in session_id order (ishchat-migrate's
-- SessionChunks): each chunk writes one region of the messages' indexes, where a range of legacy ids wrote
-- into every leaf page of them. The plan is made once the sessions are committed and kept here, so a
-- resumed import writes the same chunks whatever its --chunk: chunk k holds the import's sessions with
-- session_id from chunk_bounds[k + 1] up to (not including) chunk_bounds[k + 2]; the chunk numbered
-- cardinality(chunk_bounds) holds the message rejects. NULL: not planned yet, or an import begun before
-- this migration (chunks by legacy ids), which the tool does not resume.
ALTER TABLE chat.legacy_imports ADD COLUMN chunk_bounds uuid[];
COMMENT ON COLUMN chat.legacy_imports.chunk_size IS
    'Messages per chunk (whole sessions); chunks by legacy ids before 0006 (chunk_bounds NULL)';
