"""The workload profile: what the visitor told us about their workload.

Every field is optional; `None` means "unknown" and the engine then uses the default
from the rules file (and says so in its explanation). Parsing is strict so that the
command line and the conversation reject an answer with a message that names the field
and the values it accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Allowed values of the enumerated fields, in increasing order where an order exists
# (isolation: weakest to strongest need; startup: slowest to fastest).
ISOLATION_LEVELS = ("low", "medium", "high", "untrusted")
OS_MIXES = ("linux_only", "windows_only", "windows_and_linux", "other_kernel")
DENSITIES = ("low", "medium", "high")
STARTUPS = ("minutes", "seconds", "subsecond")
TEAM_LEVELS = ("none", "some", "strong")
# Factors added with engine v2 (vendors' decision guides ask about them); all optional.
TRAFFIC_SHAPES = ("steady", "bursty", "scale_to_zero")
OS_PATCHING = ("provider", "either", "us")  # who should patch the guest OS
LICENCES = ("none", "bring_own")  # licences counted per VM or core (Windows, SQL, Oracle)
WORK_PATTERNS = ("service", "batch", "event_driven")

ENUM_FIELDS: Mapping[str, tuple[str, ...]] = {
    "isolation": ISOLATION_LEVELS,
    "os_mix": OS_MIXES,
    "density": DENSITIES,
    "startup": STARTUPS,
    "team_containers": TEAM_LEVELS,
    "traffic": TRAFFIC_SHAPES,
    "os_patching": OS_PATCHING,
    "licences": LICENCES,
    "work_pattern": WORK_PATTERNS,
}
BOOL_FIELDS = ("kernel_custom", "legacy", "stateful", "gpu", "privileged")
INT_FIELDS = ("workload_count",)
LIST_FIELDS = ("compliance",)

# The order in which fields are listed in reports and explanations.
FIELD_ORDER = (
    "isolation",
    "os_mix",
    "kernel_custom",
    "density",
    "workload_count",
    "startup",
    "legacy",
    "stateful",
    "gpu",
    "compliance",
    "team_containers",
    "traffic",
    "privileged",
    "os_patching",
    "licences",
    "work_pattern",
)

MAX_WORKLOAD_COUNT = 10_000_000


class ProfileError(ValueError):
    """A profile field is unknown or has a value outside the allowed ones.

    Attributes:
        field: The offending field name.
        allowed: A human description of the accepted values.
    """

    def __init__(self, field: str, message: str, allowed: str) -> None:
        super().__init__(f"{field}: {message}; allowed: {allowed}")
        self.field = field
        self.allowed = allowed


@dataclass(frozen=True)
class WorkloadProfile:
    """A workload as described by the visitor; `None` means unknown."""

    isolation: str | None = None
    os_mix: str | None = None
    kernel_custom: bool | None = None
    density: str | None = None
    workload_count: int | None = None
    startup: str | None = None
    legacy: bool | None = None
    stateful: bool | None = None
    gpu: bool | None = None
    compliance: tuple[str, ...] | None = None
    team_containers: str | None = None
    traffic: str | None = None
    privileged: bool | None = None
    os_patching: str | None = None
    licences: str | None = None
    work_pattern: str | None = None

    def get(self, field: str) -> Any:
        """The value of `field` (`None` when unknown)."""
        return getattr(self, field)

    def known_fields(self) -> tuple[str, ...]:
        """The fields that have a value, in report order."""
        return tuple(name for name in FIELD_ORDER if self.get(name) is not None)

    def replace(self, **changes: Any) -> WorkloadProfile:
        """A copy with `changes` applied; values are validated like `parse_profile`."""
        merged = self.to_dict()
        merged.update(changes)
        return parse_profile(merged)

    def to_dict(self) -> dict[str, Any]:
        """The known fields as a JSON-ready dict (unknown fields are left out)."""
        result: dict[str, Any] = {}
        for name in FIELD_ORDER:
            value = self.get(name)
            if value is None:
                continue
            result[name] = list(value) if name in LIST_FIELDS else value
        return result


def allowed_values(field: str) -> str:
    """A short description of the values `field` accepts, for error messages.

    Raises:
        ProfileError: `field` is not a profile field.
    """
    if field in ENUM_FIELDS:
        return ", ".join(ENUM_FIELDS[field])
    if field in BOOL_FIELDS:
        return "true, false"
    if field in INT_FIELDS:
        return f"a whole number from 0 to {MAX_WORKLOAD_COUNT}"
    if field in LIST_FIELDS:
        return 'a list of standard names, e.g. ["pci", "hipaa"]'
    raise ProfileError(field, "unknown field", "fields " + ", ".join(FIELD_ORDER))


def parse_profile(data: Mapping[str, Any]) -> WorkloadProfile:
    """Build a profile from a JSON-like mapping, rejecting unknown fields and values.

    `null` (None) is accepted for any field and means unknown. Compliance names are
    lower-cased and stripped; the rules file decides what each name means.

    Args:
        data: Field names to values, e.g. `{"isolation": "untrusted", "gpu": true}`.

    Returns:
        The validated profile.

    Raises:
        ProfileError: A field is unknown or a value is not allowed; the message names
            the field and the allowed values.
    """
    if not isinstance(data, Mapping):
        raise ProfileError("profile", "must be a JSON object", "fields " + ", ".join(FIELD_ORDER))
    values: dict[str, Any] = {}
    for field, raw in data.items():
        if field not in FIELD_ORDER:
            raise ProfileError(str(field), "unknown field", "fields " + ", ".join(FIELD_ORDER))
        values[field] = None if raw is None else _parse_value(field, raw)
    return WorkloadProfile(**values)


def _parse_value(field: str, raw: Any) -> Any:
    allowed = allowed_values(field)
    if field in ENUM_FIELDS:
        if not isinstance(raw, str) or raw not in ENUM_FIELDS[field]:
            raise ProfileError(field, f"{raw!r} is not allowed", allowed)
        return raw
    if field in BOOL_FIELDS:
        if not isinstance(raw, bool):
            raise ProfileError(field, f"{raw!r} is not a boolean", allowed)
        return raw
    if field in INT_FIELDS:
        # bool is an int subclass in Python; `true` is not a count.
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ProfileError(field, f"{raw!r} is not a whole number", allowed)
        if not 0 <= raw <= MAX_WORKLOAD_COUNT:
            raise ProfileError(field, f"{raw} is out of range", allowed)
        return raw
    # compliance: a list of non-empty strings, normalised and de-duplicated in order.
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ProfileError(field, f"{raw!r} is not a list of strings", allowed)
    names: list[str] = []
    for item in raw:
        name = item.strip().lower()
        if not name:
            raise ProfileError(field, "contains an empty name", allowed)
        if name not in names:
            names.append(name)
    return tuple(names)
