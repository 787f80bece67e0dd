"""The regional NPI directory: five regions, local SQLite shards or online endpoints."""

from core.directory.model import (
    DirectoryRecord,
    Outcome,
    RegionAnswer,
    RegionCredentialsRejected,
    RegionTimedOut,
    Verification,
    name_key,
)
from core.directory.regional import (
    RegionalDirectory,
    RegionBackend,
    default_shard_paths,
    open_backends,
)

__all__ = [
    "DirectoryRecord",
    "Outcome",
    "RegionAnswer",
    "RegionBackend",
    "RegionCredentialsRejected",
    "RegionTimedOut",
    "RegionalDirectory",
    "Verification",
    "default_shard_paths",
    "name_key",
    "open_backends",
]
