"""Asymmetric signing keys kept in a directory, and the reloading key-ring source.

Layout of ``KEYTURN_KEY_DIR``::

    keys.json        manifest: kid, alg, state, created_at, retired_at of every key
    <kid>.pem        unencrypted PKCS#8 private key, mode 0600
    .keys.lock       flock(2) target that serializes the ``keyturn keys`` commands

Every file is written to a temporary name, flushed and renamed over the
target, so a reader sees either the old or the new version. A private key
file is written before the manifest names it and deleted only after the
manifest stops naming it, so a process never loads a manifest whose key
files are missing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from adapters.keys import asymmetric_key_from_pem, generate_private_key, key_ring_from_secrets, new_kid, private_key_to_pem
from domain.errors import ConfigurationError
from domain.keys import KeyManifest, KeyRecord, KeyRing, KeyState, SigningKey

logger = logging.getLogger(__name__)

MANIFEST_NAME = "keys.json"
LOCK_NAME = ".keys.lock"
MANIFEST_VERSION = 1
PRIVATE_KEY_MODE = 0o600
MANIFEST_MODE = 0o644
DIRECTORY_MODE = 0o700
DEFAULT_RELOAD_INTERVAL = timedelta(seconds=10)

# The manifest's inode, size, mtime and ctime, compared to notice a change. The
# inode changes on every atomic rename, so a rewrite within one mtime tick is seen.
ManifestSignature = tuple[int, int, int, int]


class KeyDirectory:
    """Reads and changes the key directory; the commands behind ``keyturn keys``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST_NAME

    def private_key_path(self, kid: str) -> Path:
        return self.path / f"{kid}.pem"

    def manifest_signature(self) -> ManifestSignature | None:
        """Stat the manifest; None when it does not exist yet."""
        try:
            info = self.manifest_path.stat()
        except FileNotFoundError:
            return None
        return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)

    def read_manifest(self) -> KeyManifest:
        """Parse the manifest; a missing manifest is an empty one.

        Raises ``ConfigurationError`` naming the file when it is not a
        manifest this version of Keyturn wrote.
        """
        try:
            raw = self.manifest_path.read_bytes()
        except FileNotFoundError:
            return KeyManifest()
        try:
            return _manifest_from_json(json.loads(raw))
        except (ValueError, KeyError, TypeError, ConfigurationError) as error:
            raise ConfigurationError(f"{self.manifest_path} is not a valid key manifest: {error}") from error

    def load_keys(
        self, manifest: KeyManifest, cache: dict[str, SigningKey] | None = None
    ) -> tuple[SigningKey | None, tuple[SigningKey, ...]]:
        """Load the private key of every manifest entry: the active key, then the verify-only keys.

        ``cache`` maps kids to keys loaded before. Key files never change
        once written, so a cached key is reused without reading its file.
        """
        cache = cache or {}
        active: SigningKey | None = None
        verify_only: list[SigningKey] = []
        for record in manifest.records:
            key = cache.get(record.kid)
            if key is None or key.algorithm != record.algorithm:
                key = self._load_private_key(record)
            if record.state is KeyState.ACTIVE:
                active = key
            else:
                verify_only.append(key)
        return active, tuple(verify_only)

    def generate(self, algorithm: str, now: datetime) -> KeyRecord:
        """Create a key in the pending state, which every process loads as verify-only."""
        with self._locked():
            manifest = self.read_manifest()
            private_key = generate_private_key(algorithm)
            record = KeyRecord(
                kid=new_kid(algorithm), algorithm=algorithm, state=KeyState.PENDING, created_at=_whole_seconds(now)
            )
            key_path = self.private_key_path(record.kid)
            if key_path.exists():
                raise ConfigurationError(f"{key_path} already exists; run the command again for a new kid")
            _write_atomically(key_path, private_key_to_pem(private_key), PRIVATE_KEY_MODE)
            self._write_manifest(manifest.with_pending(record))
        return record

    def rotate(self, now: datetime, publication_delay: timedelta, *, force: bool = False) -> KeyManifest:
        """Promote the newest pending key and retire the active one; return the new manifest.

        Raises ``KeyManagementError`` when no key is pending, or when the
        newest one was published less than ``publication_delay`` ago and
        ``force`` is false.
        """
        with self._locked():
            rotated = self.read_manifest().rotate(_whole_seconds(now), publication_delay, force=force)
            self._write_manifest(rotated)
        return rotated

    def prune(self, now: datetime, keep_for: timedelta) -> tuple[KeyRecord, ...]:
        """Delete retired keys whose ``retired_at`` lies more than ``keep_for`` in the past; return them."""
        with self._locked():
            manifest = self.read_manifest()
            expired = manifest.expired_retired(now, keep_for)
            if not expired:
                return ()
            self._write_manifest(manifest.without(expired))
            for record in expired:
                self.private_key_path(record.kid).unlink(missing_ok=True)
        return expired

    def _load_private_key(self, record: KeyRecord) -> SigningKey:
        path = self.private_key_path(record.kid)
        try:
            mode = path.stat().st_mode
            if stat.S_IMODE(mode) & 0o077:
                raise ConfigurationError(f"{path} is readable by other users; run `chmod 600 {path}`")
            pem = path.read_bytes()
        except FileNotFoundError:
            raise ConfigurationError(f"{path} is missing but {MANIFEST_NAME} lists key {record.kid}") from None
        return asymmetric_key_from_pem(record.kid, record.algorithm, pem)

    def _write_manifest(self, manifest: KeyManifest) -> None:
        data = json.dumps(_manifest_to_json(manifest), indent=2).encode("utf-8") + b"\n"
        _write_atomically(self.manifest_path, data, MANIFEST_MODE)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold an exclusive flock so two ``keyturn keys`` commands never interleave their read and write."""
        self.path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        descriptor = os.open(self.path / LOCK_NAME, os.O_RDWR | os.O_CREAT, PRIVATE_KEY_MODE)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)


class KeyRingSource:
    """The current key ring, reloaded from the key directory when its manifest changes.

    ``current()`` stats the manifest at most once per ``reload_interval`` of
    ``monotonic()`` time and reads files only when the stat result changed,
    so verification does no other file I/O. ``reload_now()`` rereads at
    once and is meant for a SIGHUP handler.

    A manifest that fails to load after start-up is logged and the previous
    ring stays in use, because dropping every key would reject every token.
    At construction the error is raised, so a broken directory stops start-up.
    """

    def __init__(
        self,
        secret_ring: KeyRing,
        directory: KeyDirectory | None,
        reload_interval: timedelta = DEFAULT_RELOAD_INTERVAL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._secret_ring = secret_ring
        self._directory = directory
        self._interval = reload_interval.total_seconds()
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._cache: dict[str, SigningKey] = {}
        self._signature: ManifestSignature | None = None
        self._ring = secret_ring
        self._checked_at = monotonic()
        if directory is not None:
            self._load()

    @property
    def reload_interval(self) -> timedelta:
        return timedelta(seconds=self._interval)

    def current(self) -> KeyRing:
        """Return the ring, first reloading it if the interval has passed and the manifest changed."""
        if self._directory is None:
            return self._ring
        now = self._monotonic()
        if now - self._checked_at >= self._interval:
            self._reload_if_changed(now)
        return self._ring

    def reload_now(self) -> KeyRing:
        """Reread the manifest and key files now, whether or not they changed."""
        if self._directory is None:
            return self._ring
        with self._lock:
            self._checked_at = self._monotonic()
            self._load_logging_errors()
        return self._ring

    def _reload_if_changed(self, now: float) -> None:
        # Another thread already checking is enough: this one keeps the
        # current ring rather than waiting on file I/O.
        if not self._lock.acquire(blocking=False):
            return
        try:
            self._checked_at = now
            if self._directory.manifest_signature() != self._signature:
                self._load_logging_errors()
        finally:
            self._lock.release()

    def _load_logging_errors(self) -> None:
        try:
            self._load()
        except (ConfigurationError, OSError) as error:
            logger.error("key directory reload failed, keeping the previous key ring: %s", error)

    def _load(self) -> None:
        signature = self._directory.manifest_signature()
        manifest = self._directory.read_manifest()
        active, verify_only = self._directory.load_keys(manifest, self._cache)
        ring = self._secret_ring.with_directory_keys(active, verify_only)
        loaded = list(verify_only)
        if active is not None:
            loaded.append(active)
        self._cache = {key.kid: key for key in loaded}
        self._ring = ring
        self._signature = signature
        logger.info(
            "key ring loaded: signing with %s (%s), %d verify-only keys",
            ring.active.kid,
            ring.active.algorithm,
            len(ring.verify_only),
        )


def build_key_ring_source(
    session_secret: str,
    previous_secrets: Sequence[str],
    key_dir: Path | str | None,
    reload_interval: timedelta = DEFAULT_RELOAD_INTERVAL,
) -> KeyRingSource:
    """Build the source the container provides: HKDF keys, plus the key directory when one is set.

    Raises ``ConfigurationError`` when ``key_dir`` is set but is not a
    directory, because a mistyped path would otherwise fall back to HS256
    without a word.
    """
    secret_ring = key_ring_from_secrets(session_secret, previous_secrets)
    if key_dir is None or str(key_dir) == "":
        return KeyRingSource(secret_ring, None, reload_interval)
    path = Path(key_dir)
    if not path.is_dir():
        raise ConfigurationError(
            f"KEYTURN_KEY_DIR={path} is not a directory; create it with `keyturn keys generate --alg EdDSA`"
        )
    return KeyRingSource(secret_ring, KeyDirectory(path), reload_interval)


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(path: Path) -> None:
    # The rename is durable only once the directory entry reaches the disk.
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _manifest_to_json(manifest: KeyManifest) -> dict[str, Any]:
    return {
        "version": MANIFEST_VERSION,
        "keys": [
            {
                "kid": record.kid,
                "alg": record.algorithm,
                "state": record.state.value,
                "created_at": _format_time(record.created_at),
                "retired_at": _format_time(record.retired_at) if record.retired_at else None,
            }
            for record in manifest.records
        ],
    }


def _manifest_from_json(document: Any) -> KeyManifest:
    if not isinstance(document, dict) or document.get("version") != MANIFEST_VERSION:
        raise ValueError(f"expected an object with version {MANIFEST_VERSION}")
    entries = document["keys"]
    if not isinstance(entries, list):
        raise ValueError("keys must be a list")
    return KeyManifest(tuple(_record_from_json(entry) for entry in entries))


def _record_from_json(entry: Any) -> KeyRecord:
    if not isinstance(entry, dict):
        raise ValueError("every key entry must be an object")
    retired_at = entry.get("retired_at")
    return KeyRecord(
        kid=entry["kid"],
        algorithm=entry["alg"],
        state=KeyState(entry["state"]),
        created_at=_parse_time(entry["created_at"]),
        retired_at=_parse_time(retired_at) if retired_at is not None else None,
    )


def _whole_seconds(moment: datetime) -> datetime:
    """Round up to a whole second, the manifest's precision.

    Rounding up never makes a key look published or retired earlier than it
    was, so neither the rotation wait nor the prune horizon gets shorter.
    """
    if moment.microsecond == 0:
        return moment
    return moment.replace(microsecond=0) + timedelta(seconds=1)


def _format_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"time {value!r} must be an ISO 8601 string")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"time {value!r} must carry a time zone")
    return moment.astimezone(timezone.utc)
