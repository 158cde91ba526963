-- The service's own login role (see docs/database.md); `agentkeel migrate` grants it the rest.
CREATE ROLE agentkeel_app LOGIN PASSWORD 'agentkeel_app';
ALTER ROLE agentkeel_owner CREATEROLE;
