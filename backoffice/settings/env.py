"""The one place that reads the environment."""

import os


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_required(name: str, why: str) -> str:
    """Return the variable, or stop the process with one line a person can act on."""
    value = os.environ.get(name)
    if not value:
        refuse_to_start(f"{name} is not set: {why}")
    return value


def refuse_to_start(reason: str) -> None:
    # SystemExit prints its message alone, without the traceback a settings error would give.
    raise SystemExit(f"backoffice refuses to start: {reason}")
