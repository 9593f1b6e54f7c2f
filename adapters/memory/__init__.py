"""In-memory adapters for every port, for unit tests and single-process experiments."""

from adapters.memory.audit import InMemoryAuditSink
from adapters.memory.one_time_claims import InMemoryOneTimeClaims
from adapters.memory.refresh_tokens import InMemoryRefreshTokenStore
from adapters.memory.revocations import InMemoryRevocationStore
from adapters.memory.users import InMemoryUserRepository

__all__ = [
    "InMemoryAuditSink",
    "InMemoryOneTimeClaims",
    "InMemoryRefreshTokenStore",
    "InMemoryRevocationStore",
    "InMemoryUserRepository",
]
