-- 002_function_grants: functions are executable by PUBLIC by default. The
-- SECURITY DEFINER functions read across organizations, so only mentord's
-- runtime role may call them; other roles on the same cluster may not.
REVOKE EXECUTE ON FUNCTION md_request_begin(bigint, bigint, int, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION md_login_lookup(text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION md_login_finish(text, text, bigint, bigint, boolean, bytea, int) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION md_session_resume(bytea) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION md_invite_redeem(bytea, text, bytea, int) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION md_org_list() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION md_org_create(text, text, text, text, text, bytea, boolean) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION md_request_begin(bigint, bigint, int, boolean) TO mentord_app;
GRANT EXECUTE ON FUNCTION md_login_lookup(text, text) TO mentord_app;
GRANT EXECUTE ON FUNCTION md_login_finish(text, text, bigint, bigint, boolean, bytea, int) TO mentord_app;
GRANT EXECUTE ON FUNCTION md_session_resume(bytea) TO mentord_app;
GRANT EXECUTE ON FUNCTION md_invite_redeem(bytea, text, bytea, int) TO mentord_app;
GRANT EXECUTE ON FUNCTION md_org_list() TO mentord_app;
GRANT EXECUTE ON FUNCTION md_org_create(text, text, text, text, text, bytea, boolean) TO mentord_app;
