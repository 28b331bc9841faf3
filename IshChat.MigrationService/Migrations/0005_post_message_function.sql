-- A post in one statement (issue 15, item 2): the session lock, the duplicate check, the numbering and the insert
-- ran as four statements, each a round trip through PgBouncer and HAProxy. The API now sends this call in one
-- batch with the instance scope, the newest page, the commit and the commit's WAL position (ChatDatabase).
--
-- SECURITY INVOKER (the default): it runs as ishchat_app, under the row-level security the transaction's
-- set_config('ishchat.instance_id', ...) selects, exactly as the four statements did. No SET search_path (a
-- per-call GUC save and restore): every name is schema-qualified.
--
-- Outcomes, in the order the API always checked them: 'session-not-found', 'duplicate' (the same client message
-- id with the same sender and text: the stored message), 'different-content' (the id reused for another sender
-- or text: the API answers 409), 'device-not-found', 'session-ended', 'created'.
CREATE FUNCTION chat.post_message(
    p_instance_id uuid, p_session_id uuid, p_client_message_id uuid, p_sender_device_id uuid, p_body text,
    p_created_at timestamptz, p_number_above bigint,
    OUT outcome text, OUT message_seq bigint, OUT message_client_id uuid, OUT message_sender_id uuid,
    OUT message_body text, OUT message_created_at timestamptz)
LANGUAGE plpgsql VOLATILE
AS $fn$
DECLARE
    session_state text;
    device_exists boolean;
    existing chat.messages%ROWTYPE;
BEGIN
    -- The session row's lock serialises posts to one session, so sequence numbers have no races, and no gaps
    -- except past numbers a lossy failover took back (the API's AcknowledgedSequences, p_number_above).
    SELECT s.state, EXISTS (SELECT 1 FROM chat.devices AS d WHERE d.instance_id = p_instance_id AND d.device_id = p_sender_device_id)
      INTO session_state, device_exists
      FROM chat.sessions AS s
     WHERE s.instance_id = p_instance_id AND s.session_id = p_session_id
       FOR UPDATE OF s;
    IF NOT FOUND THEN
        outcome := 'session-not-found';
        RETURN;
    END IF;

    -- A retry finds its first attempt's message; anything else reusing the id is a conflict, not the old message.
    SELECT * INTO existing FROM chat.messages AS m
     WHERE m.instance_id = p_instance_id AND m.session_id = p_session_id AND m.client_message_id = p_client_message_id;
    IF FOUND THEN
        outcome := CASE WHEN existing.sender_device_id = p_sender_device_id AND existing.body = p_body THEN 'duplicate' ELSE 'different-content' END;
        message_seq := existing.seq;
        message_client_id := existing.client_message_id;
        message_sender_id := existing.sender_device_id;
        message_body := existing.body;
        message_created_at := existing.created_at;
        RETURN;
    END IF;

    IF NOT device_exists THEN
        outcome := 'device-not-found';
        RETURN;
    END IF;

    IF session_state <> 'active' THEN
        outcome := 'session-ended';
        RETURN;
    END IF;

    -- Numbered above both the session's counter and the highest number ever acknowledged to a client.
    UPDATE chat.sessions AS s SET message_count = greatest(s.message_count, p_number_above) + 1, last_message_at = p_created_at
     WHERE s.instance_id = p_instance_id AND s.session_id = p_session_id
    RETURNING s.message_count INTO message_seq;
    INSERT INTO chat.messages AS m (instance_id, session_id, seq, client_message_id, sender_device_id, body, created_at)
    VALUES (p_instance_id, p_session_id, message_seq, p_client_message_id, p_sender_device_id, p_body, p_created_at)
    RETURNING m.client_message_id, m.sender_device_id, m.body, m.created_at
         INTO message_client_id, message_sender_id, message_body, message_created_at;
    outcome := 'created';
END
$fn$;

REVOKE EXECUTE ON FUNCTION chat.post_message(uuid, uuid, uuid, uuid, text, timestamptz, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION chat.post_message(uuid, uuid, uuid, uuid, text, timestamptz, bigint) TO ishchat_app;
