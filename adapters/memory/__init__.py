"""In-memory adapters for every port, for unit tests and single-process experiments."""

from adapters.memory.audit import InMemoryAuditSink
from adapters.memory.refresh_tokens import InMemoryRefreshTokenStore
from adapters.memory.revocations import InMemoryRevocationStore
from adapters.memory.users import InMemoryUserRepository

__all__ = [
    "InMemoryAuditSink",
    "InMemoryRefreshTokenStore",
    "InMemoryRevocationStore",
    "InMemoryUserRepository",
]
