"""Lua scripts of ``RedisRefreshTokenStore``; each runs atomically on the Redis server.

Key layout under a prefix P, which ``RedisRefreshTokenStore._key`` builds the same way:

- ``{P}session:{id}``: hash of one session, with a TTL to its ``expires_at``.
- ``{P}refresh:{digest}``: hash of one refresh token, with a TTL to its ``expires_at``.
- ``{P}session-tokens:{id}``: set of the digests of a session's refresh tokens.
- ``{P}user-sessions:{user_id}``: sorted set of a user's session ids, scored by ``created_at``.

The two sets live as long as the longest-lived key they point to. Every
script takes the prefix as ARGV[1] and the caller's ``now`` in microseconds
as ARGV[2], and builds the keys it touches from them.

NOTE: the scripts touch keys that are not passed in KEYS, which standalone
Redis allows but Redis Cluster does not.
"""

from __future__ import annotations

_PRELUDE = """
local prefix = ARGV[1]
local now = tonumber(ARGV[2])

local function key(kind, id)
    return prefix .. kind .. ':' .. id
end

local function ttl_ms(expiry)
    return math.max(1, math.ceil((tonumber(expiry) - now) / 1000))
end

-- Raise the key's TTL to ms, never lower it; PTTL is -1 for a key without one.
local function extend_ttl(name, ms)
    if redis.call('PTTL', name) < ms then
        redis.call('PEXPIRE', name, ms)
    end
end

-- Mark the session's active tokens revoked and forget digests whose key expired.
local function revoke_tokens(session_id)
    local tokens_key = key('session-tokens', session_id)
    for _, digest in ipairs(redis.call('SMEMBERS', tokens_key)) do
        local state = redis.call('HGET', key('refresh', digest), 'state')
        if not state then
            redis.call('SREM', tokens_key, digest)
        elseif state == 'active' then
            redis.call('HSET', key('refresh', digest), 'state', 'revoked')
        end
    end
end

-- Drop ids of sessions whose key expired from a user's index.
local function prune_index(index_key)
    for _, session_id in ipairs(redis.call('ZRANGE', index_key, 0, -1)) do
        if redis.call('EXISTS', key('session', session_id)) == 0 then
            redis.call('ZREM', index_key, session_id)
        end
    end
end
"""

# ARGV[3..8]: session id, user id, created_at, session expires_at, token
# digest, token expires_at. ARGV[9]: the number n of session hash arguments
# that follow; the token hash arguments come after them.
OPEN_SESSION = (
    _PRELUDE
    + """
local session_id, user_id, created_at = ARGV[3], ARGV[4], ARGV[5]
local session_ttl, token_ttl = ttl_ms(ARGV[6]), ttl_ms(ARGV[8])
local digest = ARGV[7]
local session_args = tonumber(ARGV[9])

local session_key = key('session', session_id)
redis.call('DEL', session_key)
redis.call('HSET', session_key, unpack(ARGV, 10, 9 + session_args))
redis.call('PEXPIRE', session_key, session_ttl)

local token_key = key('refresh', digest)
redis.call('DEL', token_key)
redis.call('HSET', token_key, unpack(ARGV, 10 + session_args, #ARGV))
redis.call('PEXPIRE', token_key, token_ttl)

local tokens_key = key('session-tokens', session_id)
redis.call('SADD', tokens_key, digest)
extend_ttl(tokens_key, math.max(session_ttl, token_ttl))

local index_key = key('user-sessions', user_id)
prune_index(index_key)
redis.call('ZADD', index_key, created_at, session_id)
extend_ttl(index_key, session_ttl)
"""
)

# ARGV[3..5]: presented digest, successor digest, successor expires_at.
# Returns {outcome}, or {outcome, the presented token's hash fields as they were before the call}.
ROTATE = (
    _PRELUDE
    + """
local digest, successor, expires_at = ARGV[3], ARGV[4], ARGV[5]
local token_key = key('refresh', digest)
local fields = redis.call('HGETALL', token_key)
if #fields == 0 then
    return {'not_usable'}
end
local token = {}
for i = 1, #fields, 2 do
    token[fields[i]] = fields[i + 1]
end
if token.state == 'rotated' then
    return {'already_rotated', fields}
end
if token.state ~= 'active' or tonumber(token.expires_at) <= now then
    return {'not_usable', fields}
end
local session_key = key('session', token.session_id)
local session = redis.call('HMGET', session_key, 'expires_at', 'revoked_at')
if not session[1] or session[2] or tonumber(session[1]) <= now then
    return {'not_usable', fields}
end

local ttl = ttl_ms(expires_at)
redis.call('HSET', token_key, 'state', 'rotated', 'rotated_at', ARGV[2])
local successor_key = key('refresh', successor)
redis.call('HSET', successor_key, 'session_id', token.session_id, 'user_id', token.user_id,
    'issued_at', ARGV[2], 'expires_at', expires_at, 'state', 'active')
redis.call('PEXPIRE', successor_key, ttl)
local tokens_key = key('session-tokens', token.session_id)
redis.call('SADD', tokens_key, successor)
extend_ttl(tokens_key, ttl)
-- The session's expiry follows its newest token, so its TTL may also shrink.
redis.call('HSET', session_key, 'last_used_at', ARGV[2], 'expires_at', expires_at)
redis.call('PEXPIRE', session_key, ttl)
extend_ttl(key('user-sessions', token.user_id), ttl)
return {'rotated', fields}
"""
)

# ARGV[3]: session id. Its tokens are revoked even when the session key has
# expired, because a token's key can outlive its session's.
REVOKE_SESSION = (
    _PRELUDE
    + """
local session_key = key('session', ARGV[3])
if redis.call('EXISTS', session_key) == 1 and redis.call('HEXISTS', session_key, 'revoked_at') == 0 then
    redis.call('HSET', session_key, 'revoked_at', ARGV[2])
end
revoke_tokens(ARGV[3])
"""
)

# ARGV[3]: user id. Returns the ids of the sessions this call revoked.
REVOKE_USER_SESSIONS = (
    _PRELUDE
    + """
local index_key = key('user-sessions', ARGV[3])
prune_index(index_key)
local revoked = {}
for _, session_id in ipairs(redis.call('ZRANGE', index_key, 0, -1)) do
    local session_key = key('session', session_id)
    if redis.call('HEXISTS', session_key, 'revoked_at') == 0 then
        redis.call('HSET', session_key, 'revoked_at', ARGV[2])
        revoke_tokens(session_id)
        table.insert(revoked, session_id)
    end
end
return revoked
"""
)

# ARGV[3]: user id. Returns the hash of each of the user's stored sessions,
# newest first. The caller filters out those that are not live at now.
LIST_SESSIONS = (
    _PRELUDE
    + """
local index_key = key('user-sessions', ARGV[3])
prune_index(index_key)
local sessions = {}
for _, session_id in ipairs(redis.call('ZREVRANGE', index_key, 0, -1)) do
    table.insert(sessions, redis.call('HGETALL', key('session', session_id)))
end
return sessions
"""
)
