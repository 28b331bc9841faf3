-- Generated chat data for the benchmarks (bench/backup.sh, bench/replicas.sh), in an `ishchat` database whose chat
-- schema is applied: :instances instances, each with 1 device and 100 sessions, :per_session messages per session
-- numbered 1..n as the API would have numbered them. Run as the superuser (row-level security does not apply):
--   psql -v instances=20 -v per_session=1250 -d ishchat -f bench/chat-data.sql    # 2,500,000 messages ≈ 1 GB
\set ON_ERROR_STOP on
INSERT INTO chat.instances (instance_id, name, instance_type)
  SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'bench ' || i, 'standard' FROM generate_series(1, :instances) i;
INSERT INTO chat.devices (instance_id, device_id, name) SELECT instance_id, gen_random_uuid(), 'phone' FROM chat.instances;
INSERT INTO chat.sessions (instance_id, session_id, device_id, message_count)
  SELECT instance_id, gen_random_uuid(), device_id, :per_session FROM chat.devices, generate_series(1, 100);
INSERT INTO chat.messages (instance_id, session_id, seq, client_message_id, sender_device_id, body)
  SELECT s.instance_id, s.session_id, g, gen_random_uuid(), s.device_id, md5(random()::text) || repeat(' chat message body', 6)
    FROM chat.sessions s, generate_series(1, :per_session) g;
ANALYZE;
